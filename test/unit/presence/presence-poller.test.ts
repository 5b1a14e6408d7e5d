import { CallBudget, MemoryBudgetStore } from '../../../src/presence/budget';
import { UpstreamUnavailableError, type PresenceError } from '../../../src/presence/errors';
import { PresencePoller } from '../../../src/presence/presence-poller';
import type { PresenceChange } from '../../../src/presence/presence-watch';
import { SessionAction } from '../../../src/presence/session-api';
import { answerAll, FakeSessionApi, INSTANCE, key, keys } from './fake-session-api';

beforeEach(() => jest.useFakeTimers({ now: 0 }));
afterEach(() => jest.useRealTimers());

const INTERVAL_MS = 1000;

function pollerFor(api: FakeSessionApi, options: { batchQps?: number; share?: number; store?: MemoryBudgetStore; onError?: (error: PresenceError) => void } = {}) {
  const { batchQps = 100, share = 0.2, store = new MemoryBudgetStore() } = options;
  return new PresencePoller({
    api,
    accountBudget: new CallBudget({ store, action: SessionAction.Batch, limitPerSecond: batchQps }),
    shareBudget: new CallBudget({ store, action: 'subscriptions', limitPerSecond: Math.max(1, Math.floor(batchQps * share)) }),
    intervalMs: INTERVAL_MS,
    onError: options.onError,
  });
}

/** A watcher that records what it hears. */
function recorder() {
  const heard: PresenceChange[] = [];
  return { heard, listener: (change: PresenceChange) => void heard.push(change), summary: () => heard.map((c) => [c.key.clientId, c.online, c.initial]) };
}

/** Runs due timers and the promise chains they start (fake time stands still meanwhile). */
const tick = (ms = 0) => jest.advanceTimersByTimeAsync(ms);

describe('PresencePoller', () => {
  describe('cost', () => {
    it('asks about the union of every watch once per interval, however many watchers there are', async () => {
      const api = new FakeSessionApi();
      const poller = pollerFor(api);
      for (let i = 0; i < 1000; i++) poller.watch(keys(10), () => undefined);
      await tick();
      expect(api.calls).toHaveLength(1); // the first statuses, asked at once
      await tick(3 * INTERVAL_MS);
      expect(api.calls).toHaveLength(4);
      for (const call of api.calls) expect(call).toEqual(keys(10).map((k) => k.clientId));
      expect(api.callTimes).toEqual([0, 1000, 2000, 3000]);
      poller.close();
    });

    it('packs the union into calls of at most 10 IDs of one instance (BatchQuerySessionByClientIds: at most 10 IDs per call)', async () => {
      const api = new FakeSessionApi();
      const poller = pollerFor(api);
      poller.watch([...keys(15), ...keys(3, 0, 'mqtt-other')], () => undefined);
      poller.watch(keys(10, 15), () => undefined);
      await tick();
      expect(api.calls.map((call) => call.length)).toEqual([10, 10, 5, 3]);
      expect(api.instancesCalled).toEqual([INSTANCE, INSTANCE, INSTANCE, 'mqtt-other']);
      expect(api.calls.flat()).toHaveLength(28); // each key once: 15 + 10 of one instance, 3 of the other
      poller.close();
    });

    it('stops asking about keys nobody watches, and keeps no timer once nothing is watched', async () => {
      const api = new FakeSessionApi();
      const poller = pollerFor(api);
      const stopA = poller.watch(keys(10), () => undefined);
      const stopB = poller.watch(keys(5, 5), () => undefined);
      await tick(INTERVAL_MS);
      stopA();
      await tick(INTERVAL_MS);
      expect(api.calls[api.calls.length - 1]).toEqual(keys(5, 5).map((k) => k.clientId));
      stopB();
      await tick(INTERVAL_MS);
      const calls = api.calls.length;
      await tick(10 * INTERVAL_MS);
      expect(api.calls).toHaveLength(calls);
      expect(jest.getTimerCount()).toBe(0);
      poller.close();
    });

    it('takes at most its share of the account budget, and asks about every key in turn when the share cannot cover them all', async () => {
      const api = new FakeSessionApi();
      const poller = pollerFor(api, { batchQps: 100, share: 0.2 }); // 20 calls per second
      poller.watch(keys(300), () => undefined); // 30 calls' worth
      await tick(3 * INTERVAL_MS - 1);
      for (let second = 0; second < 3; second++) {
        const inSecond = api.callTimes.filter((t) => t >= second * 1000 && t < (second + 1) * 1000);
        expect(inSecond.length).toBeLessThanOrEqual(20);
      }
      expect(new Set(api.calls.flat())).toEqual(new Set(keys(300).map((k) => k.clientId)));
      poller.close();
    });

    it('shares its rounds between owners: one owner\'s 4,000 keys do not hold back another\'s one key', async () => {
      const api = new FakeSessionApi();
      const victimKey = key('victim', 'mqtt-other');
      let victimOnline = false;
      api.answerBatch = (ids) => answerAll(ids, (id) => id === victimKey.clientId && victimOnline);
      const poller = pollerFor(api, { batchQps: 100, share: 0.2 }); // 20 calls (200 keys) per second
      for (let i = 0; i < 40; i++) poller.watch(keys(100, i * 100), () => undefined, 'flooder');
      await tick(5 * INTERVAL_MS);
      const victim = recorder();
      poller.watch([victimKey], victim.listener, 'victim');
      // Taken in union order it would wait 20 rounds (4,000 keys at 200 a round); shared, it is in the next one.
      await tick(INTERVAL_MS);
      expect(victim.summary()).toEqual([[victimKey.clientId, false, true]]);
      victimOnline = true;
      await tick(INTERVAL_MS);
      expect(victim.summary()).toEqual([
        [victimKey.clientId, false, true],
        [victimKey.clientId, true, false],
      ]);
      poller.close();
    });

    it('still asks about every key of an owner in turn when the share cannot cover them all', async () => {
      const api = new FakeSessionApi();
      const poller = pollerFor(api, { batchQps: 100, share: 0.2 });
      poller.watch(keys(600), () => undefined, 'big');
      poller.watch(keys(5, 0, 'mqtt-other'), () => undefined, 'small');
      await tick(5 * INTERVAL_MS - 1); // the catch-up, then 4 rounds of 20 calls: 600 + 5 keys need 61
      expect(new Set(api.calls.flat())).toEqual(new Set([...keys(600), ...keys(5, 0, 'mqtt-other')].map((k) => k.clientId)));
      poller.close();
    });

    it('leaves the account budget to queries: a poll never waits for it, the round resumes next interval', async () => {
      const api = new FakeSessionApi();
      const store = new MemoryBudgetStore();
      const queries = new CallBudget({ store, action: SessionAction.Batch, limitPerSecond: 100 });
      const grants = await Promise.all(Array.from({ length: 100 }, () => queries.acquire(0)));
      await Promise.all(grants.map((grant) => grant.settle()));
      const poller = pollerFor(api, { store });
      poller.watch(keys(10), () => undefined);
      await tick();
      expect(api.calls).toHaveLength(0);
      await tick(INTERVAL_MS);
      expect(api.calls).toHaveLength(1);
      poller.close();
    });
  });

  describe('what watchers hear', () => {
    it('hears each key\'s current status first, then only its changes', async () => {
      const api = new FakeSessionApi();
      let onlineNow = new Set<string>([key(1).clientId]);
      api.answerBatch = (ids) => answerAll(ids, (id) => onlineNow.has(id));
      const poller = pollerFor(api);
      const watcher = recorder();
      poller.watch(keys(3), watcher.listener);
      await tick();
      expect(watcher.summary()).toEqual([
        [key(0).clientId, false, true],
        [key(1).clientId, true, true],
        [key(2).clientId, false, true],
      ]);
      await tick(INTERVAL_MS);
      expect(watcher.heard).toHaveLength(3); // nothing changed, nothing said

      onlineNow = new Set([key(2).clientId]);
      await tick(INTERVAL_MS);
      expect(watcher.summary().slice(3)).toEqual([
        [key(1).clientId, false, false],
        [key(2).clientId, true, false],
      ]);
      expect(watcher.heard[4].at).toEqual(new Date(2000));
      poller.close();
    });

    it('starts a later watcher with the statuses already known, without another call', async () => {
      const api = new FakeSessionApi();
      const poller = pollerFor(api);
      poller.watch(keys(2), () => undefined);
      await tick();
      const late = recorder();
      poller.watch(keys(2), late.listener);
      await tick();
      expect(late.summary()).toEqual([
        [key(0).clientId, true, true],
        [key(1).clientId, true, true],
      ]);
      expect(api.calls).toHaveLength(1);
      poller.close();
    });

    it('keeps the last status when a call fails, reports it, and asks again next interval', async () => {
      const api = new FakeSessionApi();
      const errors: PresenceError[] = [];
      api.answerBatch = (ids, call) => {
        if (call === 1) throw new UpstreamUnavailableError('upstream down', { code: 'InternalError', requestId: 'req-9' });
        return answerAll(ids, () => call !== 2);
      };
      const poller = pollerFor(api, { onError: (error) => errors.push(error) });
      const watcher = recorder();
      poller.watch([key(0)], watcher.listener);
      await tick(INTERVAL_MS);
      expect(errors.map((error) => error.upstream?.code)).toEqual(['InternalError']);
      expect(watcher.summary()).toEqual([[key(0).clientId, true, true]]);
      await tick(INTERVAL_MS);
      expect(watcher.summary()).toEqual([
        [key(0).clientId, true, true],
        [key(0).clientId, false, false],
      ]);
      poller.close();
    });

    it('takes an ID missing from the answer for unknown, never for offline', async () => {
      const api = new FakeSessionApi();
      api.answerBatch = (ids) => ({ requestId: 'req-1', statuses: new Map(ids.filter((id) => id !== key(1).clientId).map((id) => [id, true])) });
      const poller = pollerFor(api);
      const watcher = recorder();
      poller.watch(keys(2), watcher.listener);
      await tick(INTERVAL_MS);
      expect(watcher.summary()).toEqual([[key(0).clientId, true, true]]);
      poller.close();
    });

    it('says nothing more after a watcher has stopped, and nothing to anyone after close', async () => {
      const api = new FakeSessionApi();
      let online = false;
      api.answerBatch = (ids) => answerAll(ids, () => online);
      const poller = pollerFor(api);
      const stopped = recorder();
      const kept = recorder();
      const stop = poller.watch([key(0)], stopped.listener);
      poller.watch([key(0)], kept.listener);
      await tick();
      stop();
      online = true;
      await tick(INTERVAL_MS);
      expect(stopped.heard).toHaveLength(1);
      expect(kept.heard).toHaveLength(2);
      poller.close();
      expect(() => poller.watch([key(0)], () => undefined)).toThrow(UpstreamUnavailableError);
      expect(jest.getTimerCount()).toBe(0);
    });
  });

  it('rejects a bad interval when constructed, naming the option', () => {
    const store = new MemoryBudgetStore();
    const budget = new CallBudget({ store, action: 'A', limitPerSecond: 1 });
    expect(() => new PresencePoller({ api: new FakeSessionApi(), accountBudget: budget, shareBudget: budget, intervalMs: 0 })).toThrow(/intervalMs/);
  });
});
