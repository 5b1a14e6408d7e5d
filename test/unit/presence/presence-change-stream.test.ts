import { presenceChangeStream } from '../../../src/presence/presence-change-stream';
import { WatcherRegistry, type PresenceChange, type PresenceListener, type PresenceWatch } from '../../../src/presence/presence-watch';
import { key } from './fake-session-api';

/** A watch the test drives by hand: `emit` tells every watcher of the change's key. */
class ManualWatch implements PresenceWatch {
  readonly registry = new WatcherRegistry();
  watch(keys: Parameters<PresenceWatch['watch']>[0], listener: PresenceListener): () => void {
    return this.registry.add(keys, listener);
  }
  emit(n: number, online: boolean, initial = false): void {
    this.registry.notify({ key: key(n), online, at: new Date(0), initial, origin: 'upstream' });
  }
  close(): void {}
}

const summary = (change: PresenceChange) => [change.key.clientId, change.online, change.initial];

describe('presenceChangeStream', () => {
  it('hands events over in the order they came, as the consumer asks', async () => {
    const watch = new ManualWatch();
    const stream = presenceChangeStream(watch, [key(1), key(2)]);
    watch.emit(1, false, true);
    watch.emit(2, true, true);
    const pending = stream.next();
    expect(summary((await pending).value)).toEqual([key(1).clientId, false, true]);
    expect(summary((await stream.next()).value)).toEqual([key(2).clientId, true, true]);
    const waiting = stream.next();
    watch.emit(1, true);
    expect(summary((await waiting).value)).toEqual([key(1).clientId, true, false]);
    await stream.return!();
  });

  it('keeps one waiting event per key, so a slow consumer gets the latest status and memory stays bounded', async () => {
    const watch = new ManualWatch();
    const stream = presenceChangeStream(watch, [key(1), key(2)]);
    watch.emit(1, false, true);
    watch.emit(2, false, true);
    for (let i = 0; i < 1000; i++) watch.emit(1, i % 2 === 0);
    // Key 1's first status was still waiting: the newest one replaces it and is still its first.
    expect(summary((await stream.next()).value)).toEqual([key(2).clientId, false, true]);
    expect(summary((await stream.next()).value)).toEqual([key(1).clientId, false, true]);
    await stream.return!();
  });

  it('drops a status equal to the last one delivered for its key: the subscriber sees changes only', async () => {
    const watch = new ManualWatch();
    const stream = presenceChangeStream(watch, [key(1)]);
    watch.emit(1, false, true);
    await stream.next();
    watch.emit(1, true);
    watch.emit(1, false); // back where it was before the consumer looked
    watch.emit(1, true);
    expect(summary((await stream.next()).value)).toEqual([key(1).clientId, true, false]);
    watch.emit(1, true);
    const next = stream.next();
    watch.emit(1, false);
    expect(summary((await next).value)).toEqual([key(1).clientId, false, false]);
    await stream.return!();
  });

  it('ends the watch at once on return(), even while next() waits for an event that may never come', async () => {
    const watch = new ManualWatch();
    const stream = presenceChangeStream(watch, [key(1)]);
    const waiting = stream.next();
    expect(watch.registry.size).toBe(1);
    await expect(stream.return!()).resolves.toEqual({ value: undefined, done: true });
    await expect(waiting).resolves.toEqual({ value: undefined, done: true });
    expect(watch.registry.size).toBe(0);
    await expect(stream.next()).resolves.toEqual({ value: undefined, done: true });
  });
});
