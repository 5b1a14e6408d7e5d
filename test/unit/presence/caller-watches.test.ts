import { CallerWatches } from '../../../src/presence/caller-watches';
import { InvalidInputError, RateLimitedError } from '../../../src/presence/errors';
import { FairShare } from '../../../src/presence/fair-share';
import type { PresenceListener, PresenceWatch } from '../../../src/presence/presence-watch';
import type { PresenceKey } from '../../../src/presence/types';
import { keys } from './fake-session-api';

/** A watch that records who watches what, and stops. */
function recordingWatch() {
  const watches: Array<{ keys: readonly PresenceKey[]; owner?: string; stopped: boolean }> = [];
  const watch: PresenceWatch = {
    watch(watched: readonly PresenceKey[], _listener: PresenceListener, owner?: string) {
      const entry = { keys: watched, owner, stopped: false };
      watches.push(entry);
      return () => void (entry.stopped = true);
    },
    close: () => undefined,
  };
  return { watch, watches };
}

describe('CallerWatches', () => {
  it('refuses a subscription that would take a caller past MAX_WATCHED_DEVICES_PER_CALLER, over all its subscriptions, before anything is watched', () => {
    const { watch, watches } = recordingWatch();
    const callers = new CallerWatches(watch, { maxDevicesPerCaller: 150 });
    callers.for('flooder').watch(keys(100), () => undefined);
    callers.for('flooder').watch(keys(100, 50), () => undefined); // 50 of them already watched: 150 distinct
    expect(() => callers.for('flooder').watch(keys(1, 150), () => undefined)).toThrow(InvalidInputError);
    expect(() => callers.for('flooder').watch(keys(1, 150), () => undefined)).toThrow(/MAX_WATCHED_DEVICES_PER_CALLER/);
    expect(watches).toHaveLength(2);
    // Another caller has its own cap.
    callers.for('other').watch(keys(150), () => undefined);
    expect(callers.watchedBy('flooder')).toBe(150);
  });

  it('frees a device when the last of the caller\'s subscriptions watching it ends', () => {
    const { watch, watches } = recordingWatch();
    const callers = new CallerWatches(watch, { maxDevicesPerCaller: 10 });
    const stopFirst = callers.for('caller').watch(keys(10), () => undefined);
    const stopSecond = callers.for('caller').watch(keys(5), () => undefined);
    stopFirst();
    stopFirst();
    expect(callers.watchedBy('caller')).toBe(5);
    stopSecond();
    expect(callers.watchedBy('caller')).toBe(0);
    expect(watches.every((entry) => entry.stopped)).toBe(true);
    callers.for('caller').watch(keys(10, 10), () => undefined);
  });

  it('charges each device a caller starts watching one lookup of its share, all or nothing, and passes the caller on as the owner', () => {
    const { watch, watches } = recordingWatch();
    const lookups = new FairShare({ lookupsPerSecond: 100 });
    const callers = new CallerWatches(watch, { maxDevicesPerCaller: 1000, lookups });
    callers.for('caller').watch(keys(80), () => undefined);
    callers.for('caller').watch(keys(80), () => undefined); // already watched: free
    expect(() => callers.for('caller').watch(keys(30, 80), () => undefined)).toThrow(RateLimitedError);
    expect(watches.map((entry) => entry.owner)).toEqual(['caller', 'caller']);
    expect(lookups.takeAll('caller', 20).granted).toBe(20); // the refused 30 spent nothing
  });

  it('counts active subscriptions and distinct watched devices over every caller, for the operator\'s gauges', () => {
    const { watch } = recordingWatch();
    const callers = new CallerWatches(watch, { maxDevicesPerCaller: 100 });
    const first = callers.for('a').watch(keys(3), () => undefined);
    const second = callers.for('a').watch(keys(3, 2), () => undefined); // device 2 twice for one caller
    const third = callers.for('b').watch(keys(2), () => undefined); // devices 0 and 1 again, another caller
    expect({ subscriptions: callers.subscriptions, watchedDevices: callers.watchedDevices }).toEqual({ subscriptions: 3, watchedDevices: 5 });
    first();
    first(); // a second stop counts nothing
    expect({ subscriptions: callers.subscriptions, watchedDevices: callers.watchedDevices }).toEqual({ subscriptions: 2, watchedDevices: 5 });
    third();
    expect({ subscriptions: callers.subscriptions, watchedDevices: callers.watchedDevices }).toEqual({ subscriptions: 1, watchedDevices: 3 });
    second();
    expect({ subscriptions: callers.subscriptions, watchedDevices: callers.watchedDevices }).toEqual({ subscriptions: 0, watchedDevices: 0 });
  });

  it('counts no subscription that was refused', () => {
    const { watch } = recordingWatch();
    const callers = new CallerWatches(watch, { maxDevicesPerCaller: 2 });
    expect(() => callers.for('a').watch(keys(3), () => undefined)).toThrow(InvalidInputError);
    expect({ subscriptions: callers.subscriptions, watchedDevices: callers.watchedDevices }).toEqual({ subscriptions: 0, watchedDevices: 0 });
  });
});
