import { InvalidInputError } from '../../../src/presence/errors';
import { LiveSessionsWatch } from '../../../src/local/live-sessions-watch';
import { LiveSessions } from '../../../src/local/live-sessions';
import type { PresenceChange } from '../../../src/presence/presence-watch';

const INSTANCE = 'mqtt-local-dev';
const key = (clientId: string) => ({ instanceId: INSTANCE, clientId });
const summary = (change: PresenceChange) => [change.key.clientId, change.online, change.initial];

describe('LiveSessionsWatch', () => {
  it('starts with the broker\'s current statuses, then passes on every connect and disconnect of a watched client', async () => {
    const sessions = new LiveSessions();
    sessions.connected('GID_a@@@one', 1000);
    const watch = new LiveSessionsWatch(sessions, INSTANCE);
    const heard: PresenceChange[] = [];
    watch.watch([key('GID_a@@@one'), key('GID_a@@@two')], (change) => heard.push(change));
    await Promise.resolve();
    sessions.connected('GID_a@@@two', 2000);
    sessions.connected('GID_a@@@elsewhere', 2000);
    sessions.disconnected('GID_a@@@one', 3000);
    expect(heard.map(summary)).toEqual([
      ['GID_a@@@one', true, true],
      ['GID_a@@@two', false, true],
      ['GID_a@@@two', true, false],
      ['GID_a@@@one', false, false],
    ]);
    expect(heard[3].at).toEqual(new Date(3000));
    watch.close();
  });

  it('refuses keys of another instance: the embedded broker knows its own clients only', () => {
    const watch = new LiveSessionsWatch(new LiveSessions(), INSTANCE);
    expect(() => watch.watch([{ instanceId: 'post-cn-other', clientId: 'GID_a@@@one' }], () => undefined)).toThrow(InvalidInputError);
    watch.close();
  });

  it('keeps one listener on the sessions however many watchers, and removes it on close', async () => {
    const sessions = new LiveSessions();
    const watch = new LiveSessionsWatch(sessions, INSTANCE);
    const stops = Array.from({ length: 100 }, () => watch.watch([key('GID_a@@@one')], () => undefined));
    await Promise.resolve();
    expect(sessions.listenerCount('change')).toBe(1);
    for (const stop of stops) stop();
    watch.close();
    expect(sessions.listenerCount('change')).toBe(0);
  });

  it('says nothing to a watcher that stopped before its first status', async () => {
    const sessions = new LiveSessions();
    const watch = new LiveSessionsWatch(sessions, INSTANCE);
    const heard: PresenceChange[] = [];
    watch.watch([key('GID_a@@@one')], (change) => heard.push(change))();
    await Promise.resolve();
    sessions.connected('GID_a@@@one');
    expect(heard).toEqual([]);
    watch.close();
  });
});
