import { InvalidInputError } from '../../../src/presence/errors';
import type { PresenceListener, PresenceWatch } from '../../../src/presence/presence-watch';
import { RoutedWatch } from '../../../src/presence/routed-watch';
import type { PresenceKey } from '../../../src/presence/types';
import { keys } from './fake-session-api';

/** A watch that records what it is asked to watch and which watches are still on. */
class RecordingWatch implements PresenceWatch {
  readonly watched: PresenceKey[][] = [];
  active = 0;
  closed = false;
  watch(watchedKeys: readonly PresenceKey[], _listener: PresenceListener, owner?: string): () => void {
    this.watched.push([...watchedKeys]);
    this.active++;
    expect(owner).toBe('caller-1');
    return () => void this.active--;
  }
  close(): void {
    this.closed = true;
  }
}

describe('RoutedWatch', () => {
  const alpha = new RecordingWatch();
  const beta = new RecordingWatch();
  const routes = new Map<string, PresenceWatch>([
    ['alpha-1', alpha],
    ['beta-1', beta],
  ]);
  const routed = new RoutedWatch((instanceId) => routes.get(instanceId), [alpha, beta], (instanceId) => new InvalidInputError(`${instanceId} is unknown`));

  it('hands each account\'s watch only its own keys, and one unwatch ends them all', () => {
    const unwatch = routed.watch([...keys(2, 0, 'alpha-1'), ...keys(1, 0, 'beta-1'), ...keys(1, 5, 'alpha-1')], () => undefined, 'caller-1');
    expect(alpha.watched).toEqual([[...keys(2, 0, 'alpha-1'), ...keys(1, 5, 'alpha-1')]]);
    expect(beta.watched).toEqual([keys(1, 0, 'beta-1')]);
    unwatch();
    expect([alpha.active, beta.active]).toEqual([0, 0]);
  });

  it('refuses a key of an instance no watch serves before watching anything', () => {
    expect(() => routed.watch([...keys(1, 0, 'alpha-1'), ...keys(1, 0, 'gamma-1')], () => undefined, 'caller-1')).toThrow(new InvalidInputError('gamma-1 is unknown'));
    expect(alpha.active).toBe(0);
  });

  it('closes every account\'s watch', () => {
    routed.close();
    expect([alpha.closed, beta.closed]).toEqual([true, true]);
  });
});
