import { PresenceErrorCode, UpstreamRejectedError, UpstreamThrottledError } from '../../../src/presence/errors';
import { MemoryPresenceCache } from '../../../src/presence/presence-cache';
import { SessionAction } from '../../../src/presence/session-api';
import { NO_OBSERVER } from '../../../src/presence/types';
import {
  FakeSessionApi,
  RecordingObserver,
  answerAll,
  asStatus,
  clientIds,
  deferred,
  dispatcherFor,
  key,
  keys,
  recordingAllowance,
  settled,
} from './fake-session-api';

// Captured before the fake timers take over: resolves once every pending promise job has run, so
// "called before this resolves" means "called in the same tick, with no timer in between".
const realSetImmediate = setImmediate;
const sameTick = () => new Promise<void>((resolve) => realSetImmediate(resolve));

beforeEach(() => jest.useFakeTimers({ now: 0 }));
afterEach(() => jest.useRealTimers());

describe('PresenceDispatcher', () => {
  describe('Packs Client IDs into BatchQuerySessionByClientIds calls (at most 10 IDs per call)', () => {
    it('sends 25 IDs as calls of 10, 10 and 5, all in flight together in the same tick', async () => {
      const api = new FakeSessionApi();
      const gate = deferred();
      api.answerBatch = async (ids) => (await gate.promise, answerAll(ids));
      const dispatcher = dispatcherFor(api);

      const lookup = dispatcher.lookup(keys(25));
      await sameTick();
      expect(api.calls).toEqual([clientIds(10), clientIds(10, 10), clientIds(5, 20)]);
      expect(api.maxInFlight).toBe(3);

      gate.resolve();
      const results = await lookup;
      expect(results.map((result) => asStatus(result).origin)).toEqual(Array(25).fill('upstream'));
      expect(jest.getTimerCount()).toBe(0); // nothing left running once idle
    });

    it('sends a 100-ID request on an idle service as 10 parallel calls in the same tick', async () => {
      const api = new FakeSessionApi();
      const gate = deferred();
      api.answerBatch = async (ids) => (await gate.promise, answerAll(ids));
      const lookup = dispatcherFor(api).lookup(keys(100));
      await sameTick();
      expect(api.calls).toEqual(Array.from({ length: 10 }, (_, i) => clientIds(10, 10 * i)));
      expect(api.maxInFlight).toBe(10);
      gate.resolve();
      expect((await lookup).every((result) => !(result instanceof Error))).toBe(true);
    });

    it('holds a partial call for 1000 / batchQps ms after the previous partial call, collecting IDs', async () => {
      const api = new FakeSessionApi();
      const dispatcher = dispatcherFor(api, { batchQps: 100 });
      const first = dispatcher.lookup([key(0)]);
      await jest.advanceTimersByTimeAsync(1);
      const second = dispatcher.lookup([key(1)]);
      await jest.advanceTimersByTimeAsync(1);
      const third = dispatcher.lookup([key(2)]);
      await jest.advanceTimersByTimeAsync(7);
      expect(api.calls).toEqual([[key(0).clientId]]);
      await jest.advanceTimersByTimeAsync(1);
      expect(api.calls).toEqual([[key(0).clientId], [key(1).clientId, key(2).clientId]]);
      expect(api.callTimes).toEqual([0, 10]);
      await Promise.all([first, second, third]);
    });

    it('sends a held partial call at once when it fills to 10', async () => {
      const api = new FakeSessionApi();
      const dispatcher = dispatcherFor(api);
      const lookups = [dispatcher.lookup([key(0)])];
      await jest.advanceTimersByTimeAsync(1);
      for (let i = 1; i <= 10; i++) {
        lookups.push(dispatcher.lookup([key(i)]));
        await sameTick();
      }
      expect(api.calls).toEqual([[key(0).clientId], clientIds(10, 1)]);
      expect(api.callTimes).toEqual([0, 1]);
      await Promise.all(lookups);
    });

    it('costs at most 20 calls for 100 concurrent one-ID lookups issued over several milliseconds', async () => {
      const api = new FakeSessionApi();
      const dispatcher = dispatcherFor(api);
      const lookups = [];
      for (let i = 0; i < 100; i++) {
        lookups.push(dispatcher.lookup([key(i)]));
        await (i % 4 === 3 ? jest.advanceTimersByTimeAsync(1) : sameTick());
      }
      await jest.runAllTimersAsync();
      const results = (await Promise.all(lookups)).flat();
      expect(results.every((result) => !(result instanceof Error))).toBe(true);
      expect(api.calls.length).toBeLessThanOrEqual(20);
      expect(api.calls.flat().sort()).toEqual(clientIds(100).sort());
    });

    it('doubles the spacing of partial calls while they follow each other closely, up to 100 ms, and is back to 10 ms after a pause', async () => {
      const api = new FakeSessionApi();
      const dispatcher = dispatcherFor(api, { batchQps: 100 });
      // One lookup every 6 ms for 600 ms: a burst of requests as a busy server hands them over.
      const lookups = [];
      for (let i = 0; i < 100; i++) {
        lookups.push(dispatcher.lookup([key(i)]));
        await jest.advanceTimersByTimeAsync(6);
      }
      await jest.runAllTimersAsync();
      const partialCallTimes = api.callTimes.filter((_, i) => api.calls[i].length < 10);
      expect(partialCallTimes).toEqual([0, 10, 30, 70, 150, 250, 350, 450, 550, 650]);
      // A fixed 10 ms spacing would have cost about 60 calls.
      expect(api.calls.length).toBe(15);
      expect((await Promise.all(lookups)).flat().every((result) => !(result instanceof Error))).toBe(true);

      jest.advanceTimersByTime(1000);
      const pausedAt = Date.now();
      await dispatcher.lookup([key(100)]);
      await jest.advanceTimersByTimeAsync(5);
      await Promise.all([dispatcher.lookup([key(101)]), jest.advanceTimersByTimeAsync(10)]);
      expect(api.callTimes.slice(-2)).toEqual([pausedAt, pausedAt + 10]);
    });

    it('shares one upstream lookup between concurrent lookups of the same ID, queued or in flight', async () => {
      const api = new FakeSessionApi();
      const gate = deferred();
      api.answerBatch = async (ids) => (await gate.promise, answerAll(ids));
      const dispatcher = dispatcherFor(api);
      const a = dispatcher.lookup([key(1)]);
      const b = dispatcher.lookup([key(1)]); // same tick: still queued
      await sameTick();
      const c = dispatcher.lookup([key(1), key(2)]); // key 1 is in flight now
      await jest.advanceTimersByTimeAsync(10);
      expect(api.calls).toEqual([[key(1).clientId], [key(2).clientId]]);
      gate.resolve();
      const [[ra], [rb], [rc1, rc2]] = await Promise.all([a, b, c]);
      for (const result of [ra, rb, rc1, rc2]) expect(asStatus(result).online).toBe(true);
    });

    it('fills the calls that wait for budget with the IDs of every request that arrives meanwhile', async () => {
      const api = new FakeSessionApi();
      const dispatcher = dispatcherFor(api, { batchQps: 1, budgetWaitMs: 5000, partialBatchIntervalMs: 0 });
      const lookups = [dispatcher.lookup([key(0)])];
      for (let i = 1; i <= 12; i++) {
        await jest.advanceTimersByTimeAsync(1);
        lookups.push(dispatcher.lookup([key(i)]));
      }
      await jest.runAllTimersAsync();
      expect(api.calls).toEqual([[key(0).clientId], clientIds(10, 1), clientIds(2, 11)]);
      expect(api.callTimes).toEqual([0, 1000, 2000]);
      expect((await Promise.all(lookups)).flat().every((result) => !(result instanceof Error))).toBe(true);
    });

    it('never mixes instances in one call: a call names one InstanceId', async () => {
      const api = new FakeSessionApi();
      const results = await dispatcherFor(api).lookup([key(1, 'mqtt-a'), key(2, 'mqtt-b'), key(3, 'mqtt-a')]);
      expect(api.calls).toEqual([[key(1).clientId, key(3).clientId], [key(2).clientId]]);
      expect(api.instancesCalled).toEqual(['mqtt-a', 'mqtt-b']);
      expect(results.every((result) => !(result instanceof Error))).toBe(true);
    });
  });

  describe('Represents answers', () => {
    it('matches answers to keys by ClientId, whatever order the upstream answers in', async () => {
      const api = new FakeSessionApi();
      const onlineIds = new Set([key(0).clientId, key(3).clientId]);
      api.answerBatch = (ids) => answerAll([...ids].reverse(), (id) => onlineIds.has(id));
      const results = await dispatcherFor(api).lookup(keys(5));
      expect(results.map((result) => asStatus(result).online)).toEqual([true, false, false, true, false]);
    });

    it('fails only the ID the upstream left out of its answer, never reporting it offline', async () => {
      const api = new FakeSessionApi();
      api.answerBatch = (ids) => answerAll(ids.filter((id) => id !== key(2).clientId), () => true, 'req-42');
      const results = await dispatcherFor(api).lookup(keys(4));
      expect(results[2]).toMatchObject({
        code: PresenceErrorCode.UpstreamRejected,
        message: 'The upstream did not answer for this Client ID',
        upstream: { requestId: 'req-42' },
      });
      expect([0, 1, 3].map((i) => asStatus(results[i]).online)).toEqual([true, true, true]);
    });

    it('stamps each status with the time of the upstream answer', async () => {
      jest.setSystemTime(5000);
      const [result] = await dispatcherFor(new FakeSessionApi()).lookup([key(1)]);
      expect(asStatus(result)).toEqual({ online: true, checkedAtMs: 5000, stale: false, origin: 'upstream' });
    });
  });

  describe('Keeps within the QPS budget', () => {
    it('never sends more than batchQps calls in any rolling second, whatever the load', async () => {
      const api = new FakeSessionApi();
      const dispatcher = dispatcherFor(api, { batchQps: 5, budgetWaitMs: 60_000 });
      let seed = 7;
      const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
      const lookups: Array<Promise<unknown[]>> = [];
      let next = 0;
      for (let i = 0; i < 60; i++) {
        const size = 1 + Math.floor(random() * 15);
        const from = next;
        next += size;
        setTimeout(() => lookups.push(dispatcher.lookup(keys(size, from))), Math.floor(random() * 5000));
      }
      await jest.runAllTimersAsync();
      const results = (await Promise.all(lookups)).flat();
      expect(results).toHaveLength(next);
      expect(results.every((result) => !(result instanceof Error))).toBe(true);
      expect(api.calls.flat().sort()).toEqual(clientIds(next).sort());
      for (const start of api.callTimes) {
        const inWindow = api.callTimes.filter((t) => t >= start && t < start + 1000).length;
        expect(inWindow).toBeLessThanOrEqual(5);
      }
    });

    it('counts a call against the budget until one second after its answer came back, since the upstream counts it on arrival', async () => {
      const api = new FakeSessionApi();
      // A slow first call (a cold connection): it may reach the upstream as late as 300 ms after its grant.
      api.answerBatch = async (ids, call) => {
        if (call === 0) await new Promise((resolve) => setTimeout(resolve, 300));
        return answerAll(ids);
      };
      const lookup = dispatcherFor(api, { batchQps: 1, budgetWaitMs: 5000 }).lookup(keys(20));
      await jest.runAllTimersAsync();
      expect((await lookup).every((result) => !(result instanceof Error))).toBe(true);
      expect(api.callTimes).toEqual([0, 1300]);
    });

    it('waits for budget rather than failing while the wait fits in budgetWaitMs', async () => {
      const api = new FakeSessionApi();
      const lookup = dispatcherFor(api, { batchQps: 2, budgetWaitMs: 3000 }).lookup(keys(50));
      await jest.runAllTimersAsync();
      expect((await lookup).every((result) => !(result instanceof Error))).toBe(true);
      expect(api.callTimes).toEqual([0, 0, 1000, 1000, 2000]);
    });

    it('fails the keys it cannot send within budgetWaitMs with UPSTREAM_THROTTLED and retryAfterMs, without waiting in vain', async () => {
      const api = new FakeSessionApi();
      const results = await dispatcherFor(api, { batchQps: 1, budgetWaitMs: 500 }).lookup(keys(20));
      expect(api.calls).toEqual([clientIds(10)]);
      expect(results.slice(0, 10).every((result) => !(result instanceof Error))).toBe(true);
      for (const result of results.slice(10)) {
        expect(result).toBeInstanceOf(UpstreamThrottledError);
        expect(result).toMatchObject({ code: PresenceErrorCode.UpstreamThrottled, retryAfterMs: 1000 });
      }
    });
  });

  describe('Answers from the cache', () => {
    const cached = (api: FakeSessionApi, cacheTtlMs: number, staleIfErrorMs = 0) =>
      dispatcherFor(api, { cache: new MemoryPresenceCache(), cacheTtlMs, staleIfErrorMs });

    it('answers a status younger than cacheTtlMs from the cache, with the time it was fetched', async () => {
      const api = new FakeSessionApi();
      const dispatcher = cached(api, 1000);
      await dispatcher.lookup([key(1)]);
      jest.advanceTimersByTime(999);
      const [result] = await dispatcher.lookup([key(1)]);
      expect(asStatus(result)).toEqual({ online: true, checkedAtMs: 0, stale: false, origin: 'cache' });
      expect(api.calls).toHaveLength(1);
    });

    it('asks the upstream again once the cached status is cacheTtlMs old', async () => {
      const api = new FakeSessionApi();
      const dispatcher = cached(api, 1000);
      await dispatcher.lookup([key(1)]);
      jest.advanceTimersByTime(1000);
      const [result] = await dispatcher.lookup([key(1), key(2)]);
      expect(asStatus(result).origin).toBe('upstream');
      expect(api.calls).toEqual([[key(1).clientId], [key(1).clientId, key(2).clientId]]);
    });

    it('sends only the keys the cache cannot answer', async () => {
      const api = new FakeSessionApi();
      const dispatcher = cached(api, 1000);
      await dispatcher.lookup([key(1)]);
      const results = await settled(dispatcher.lookup([key(0), key(1), key(2)]));
      expect(results.map((result) => asStatus(result).origin)).toEqual(['upstream', 'cache', 'upstream']);
      expect(api.calls).toEqual([[key(1).clientId], [key(0).clientId, key(2).clientId]]);
    });

    it('never answers from the cache when cacheTtlMs is 0', async () => {
      const api = new FakeSessionApi();
      const dispatcher = cached(api, 0, 60_000);
      await dispatcher.lookup([key(1)]);
      const [result] = await settled(dispatcher.lookup([key(1)]));
      expect(asStatus(result).origin).toBe('upstream');
      expect(api.calls).toHaveLength(2);
    });

    it('answers a fresh status from the in-process cache at once (cachedNow), and reports those answers once per tick', async () => {
      const api = new FakeSessionApi();
      const observer = new RecordingObserver();
      const dispatcher = dispatcherFor(api, { cache: new MemoryPresenceCache(), cacheTtlMs: 1000, observer });
      await dispatcher.lookup([key(1)]);
      const before = observer.answered.cache ?? 0;
      expect(dispatcher.cachedNow(key(1))).toEqual({ online: true, checkedAtMs: 0, stale: false, origin: 'cache' });
      expect(dispatcher.cachedNow(key(1))?.origin).toBe('cache');
      expect(dispatcher.cachedNow(key(2))).toBeUndefined();
      expect(observer.answered.cache ?? 0).toBe(before);
      await sameTick();
      expect(observer.answered.cache).toBe(before + 2);
      jest.advanceTimersByTime(1000);
      expect(dispatcher.cachedNow(key(1))).toBeUndefined();
      expect(api.calls).toHaveLength(1);
    });

    it('answers nothing at once from a shared store, or with cacheTtlMs 0: lookup answers those', async () => {
      const api = new FakeSessionApi();
      const memory = new MemoryPresenceCache();
      const shared = { getMany: (ids: string[]) => memory.getMany(ids), setMany: memory.setMany.bind(memory) };
      const viaShared = dispatcherFor(api, { cache: shared, cacheTtlMs: 1000 });
      await viaShared.lookup([key(1)]);
      expect(viaShared.cachedNow(key(1))).toBeUndefined();
      expect(asStatus((await viaShared.lookup([key(1)]))[0]).origin).toBe('cache');
      const noTtl = dispatcherFor(api, { cache: new MemoryPresenceCache(), cacheTtlMs: 0, staleIfErrorMs: 60_000 });
      await noTtl.lookup([key(1)]);
      expect(noTtl.cachedNow(key(1))).toBeUndefined();
    });

    it('asks the upstream when the cache store fails, rather than failing the lookup', async () => {
      const api = new FakeSessionApi();
      const broken = { getMany: () => Promise.reject(new Error('cache down')), setMany: () => Promise.reject(new Error('cache down')) };
      const [result] = await dispatcherFor(api, { cache: broken, cacheTtlMs: 1000 }).lookup([key(1)]);
      expect(asStatus(result).origin).toBe('upstream');
    });
  });

  describe("Spends the caller's fair share only on what costs the account", () => {
    it('takes one lookup per key the cache cannot answer, and fails those over the share with RATE_LIMITED, unsent', async () => {
      const api = new FakeSessionApi();
      const dispatcher = dispatcherFor(api, { cache: new MemoryPresenceCache(), cacheTtlMs: 1000 });
      await dispatcher.lookup([key(1)]);
      const share = recordingAllowance(2);
      const results = await settled(dispatcher.lookup([key(0), key(1), key(2), key(3)], share));
      expect(share.asked).toEqual([3]);
      expect(results.map((result) => (result instanceof Error ? (result as { code?: string }).code : result.origin))).toEqual([
        'upstream',
        'cache',
        'upstream',
        PresenceErrorCode.RateLimited,
      ]);
      expect(results[3]).toMatchObject({ retryAfterMs: 700 });
      expect(api.calls).toEqual([[key(1).clientId], [key(0).clientId, key(2).clientId]]);
    });

    it('spends nothing on a lookup the cache answers whole, however often it is asked', async () => {
      const api = new FakeSessionApi();
      const dispatcher = dispatcherFor(api, { cache: new MemoryPresenceCache(), cacheTtlMs: 1000 });
      await dispatcher.lookup(keys(10));
      const share = recordingAllowance(0);
      for (let i = 0; i < 5; i++) expect((await dispatcher.lookup(keys(10), share)).every((result) => !(result instanceof Error))).toBe(true);
      expect(share.asked).toEqual([]);
    });

    it('spends nothing on a key whose lookup is already under way for another request: that call is shared', async () => {
      const api = new FakeSessionApi();
      const held = deferred();
      api.answerBatch = async (ids) => {
        await held.promise;
        return answerAll(ids);
      };
      const dispatcher = dispatcherFor(api, { cache: new MemoryPresenceCache(), cacheTtlMs: 1000 });
      const first = dispatcher.lookup(keys(10), recordingAllowance(10));
      await sameTick();
      // While that call is out: the same ten keys, then three of them and a new one. Only the new one costs.
      const sameShare = recordingAllowance(0);
      const same = dispatcher.lookup(keys(10), sameShare);
      const partlyNewShare = recordingAllowance(1);
      const partlyNew = dispatcher.lookup(keys(4, 7), partlyNewShare);
      held.resolve();
      const results = [...(await settled(first)), ...(await settled(same)), ...(await settled(partlyNew))];
      expect(results.every((result) => !(result instanceof Error))).toBe(true);
      expect(sameShare.asked).toEqual([]);
      expect(partlyNewShare.asked).toEqual([1]);
      expect(api.calls).toEqual([clientIds(10), [key(10).clientId]]);
    });

    it('makes no call at all when the share is spent', async () => {
      const api = new FakeSessionApi();
      const [result] = await dispatcherFor(api).lookup([key(1)], recordingAllowance(0));
      expect(result).toMatchObject({ code: PresenceErrorCode.RateLimited });
      expect(api.calls).toEqual([]);
    });

    it('spends one lookup per exact key, since every exact lookup goes upstream', async () => {
      const api = new FakeSessionApi();
      const share = recordingAllowance(1);
      const results = await dispatcherFor(api).lookupExact([key(1), key(2)], share);
      expect(share.asked).toEqual([2]);
      expect(asStatus(results[0]).online).toBe(true);
      expect(results[1]).toMatchObject({ code: PresenceErrorCode.RateLimited });
      expect(api.exactCalls).toEqual([key(1).clientId]);
    });
  });

  describe('Answers exact lookups with QuerySessionByClientId', () => {
    it('makes one call per key, never reads the cache, and writes what it learns to the cache', async () => {
      const api = new FakeSessionApi();
      api.answerExact = (clientId) => ({ requestId: 'req-x', online: clientId === key(2).clientId });
      const dispatcher = dispatcherFor(api, { cache: new MemoryPresenceCache(), cacheTtlMs: 60_000 });
      await dispatcher.lookup(keys(3)); // every key cached as online
      const exact = await dispatcher.lookupExact(keys(3));
      expect(api.exactCalls).toEqual(clientIds(3));
      expect(exact.map((result) => [asStatus(result).online, asStatus(result).origin])).toEqual([
        [false, 'upstream'],
        [false, 'upstream'],
        [true, 'upstream'],
      ]);
      const later = await dispatcher.lookup(keys(3));
      expect(later.map((result) => [asStatus(result).online, asStatus(result).origin])).toEqual([
        [false, 'cache'],
        [false, 'cache'],
        [true, 'cache'],
      ]);
      expect(api.calls).toHaveLength(1);
    });

    it('stamps a status with the time its call was sent, and a batch answer arriving after a later exact one leaves the exact one cached', async () => {
      const api = new FakeSessionApi();
      api.answerBatch = async (ids) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return answerAll(ids, () => true);
      };
      api.answerExact = async () => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        return { requestId: 'req-x', online: false };
      };
      const dispatcher = dispatcherFor(api, { cache: new MemoryPresenceCache(), cacheTtlMs: 60_000 });
      const batch = dispatcher.lookup([key(1)]);
      await jest.advanceTimersByTimeAsync(5);
      const exact = dispatcher.lookupExact([key(1)]);
      await jest.advanceTimersByTimeAsync(100);
      expect(asStatus((await exact)[0])).toMatchObject({ online: false, checkedAtMs: 5 });
      expect(asStatus((await batch)[0])).toMatchObject({ online: true, checkedAtMs: 0, origin: 'upstream' });
      expect(asStatus((await dispatcher.lookup([key(1)]))[0])).toEqual({ online: false, checkedAtMs: 5, stale: false, origin: 'cache' });
    });

    it('keeps QuerySessionByClientId calls within their own budget', async () => {
      const api = new FakeSessionApi();
      const exactTimes: number[] = [];
      api.answerExact = () => (exactTimes.push(Date.now()), { requestId: 'r', online: true });
      const lookup = dispatcherFor(api, { exactQps: 2, budgetWaitMs: 5000 }).lookupExact(keys(5));
      await jest.runAllTimersAsync();
      expect((await lookup).every((result) => !(result instanceof Error))).toBe(true);
      expect(exactTimes).toEqual([0, 0, 1000, 1000, 2000]);
    });
  });

  describe('Reports to the observer', () => {
    it('reports each upstream call by outcome, each batch size and each lookup by how it was answered', async () => {
      const api = new FakeSessionApi();
      const observer = new RecordingObserver();
      const dispatcher = dispatcherFor(api, { observer, cache: new MemoryPresenceCache(), cacheTtlMs: 1000, retry: { maxAttempts: 1, baseDelayMs: 1, totalMs: 0 } });
      await settled(dispatcher.lookup([key(0)]));
      await settled(dispatcher.lookup(keys(12)));
      api.answerBatch = () => Promise.reject(new Error('socket hang up'));
      await settled(dispatcher.lookup([key(50)]));
      await settled(dispatcher.lookupExact([key(0)]));
      expect(observer.batchSizes).toEqual([1, 10, 1, 1]);
      expect(observer.upstreamCalls).toEqual([
        [SessionAction.Batch, 'ok'],
        [SessionAction.Batch, 'ok'],
        [SessionAction.Batch, 'ok'],
        [SessionAction.Batch, 'network'],
        [SessionAction.Exact, 'ok'],
      ]);
      expect(observer.answered).toEqual({ upstream: 13, cache: 1, error: 1 });
    });

    it('reports a lookup answered wholly from the cache as one count, and a lookup of no key not at all', async () => {
      const answered: Array<[string, number]> = [];
      const observer = { ...NO_OBSERVER, lookupsAnswered: (result: string, count: number) => void answered.push([result, count]) };
      const api = new FakeSessionApi();
      const dispatcher = dispatcherFor(api, { observer, cache: new MemoryPresenceCache(), cacheTtlMs: 1000 });
      await settled(dispatcher.lookup(keys(3)));
      expect(answered).toEqual([['upstream', 3]]);
      const results = await dispatcher.lookup([key(2), key(0), { ...key(1) }]);
      expect(results.map((result) => asStatus(result).origin)).toEqual(['cache', 'cache', 'cache']);
      await dispatcher.lookup([]);
      expect(answered).toEqual([
        ['upstream', 3],
        ['cache', 3],
      ]);
      expect(api.calls).toHaveLength(1);
    });
  });

  describe('Shuts down', () => {
    it('fails waiting keys with UPSTREAM_UNAVAILABLE on close, leaves no timer, and fails later lookups at once', async () => {
      const api = new FakeSessionApi();
      const dispatcher = dispatcherFor(api, { batchQps: 1, budgetWaitMs: 5000 });
      await dispatcher.lookup([key(0)]);
      const waiting = dispatcher.lookup([key(1)]);
      await jest.advanceTimersByTimeAsync(20);
      expect(jest.getTimerCount()).toBeGreaterThan(0);
      dispatcher.close();
      expect(await waiting).toEqual([expect.objectContaining({ code: PresenceErrorCode.UpstreamUnavailable })]);
      expect(jest.getTimerCount()).toBe(0);
      expect(await dispatcher.lookup([key(2)])).toEqual([expect.objectContaining({ code: PresenceErrorCode.UpstreamUnavailable })]);
      expect(await dispatcher.lookupExact([key(2)])).toEqual([expect.objectContaining({ code: PresenceErrorCode.UpstreamUnavailable })]);
      expect(api.calls).toHaveLength(1);
    });

    it('sends nothing after close, not even the halves of a call in flight that the upstream rejected', async () => {
      const api = new FakeSessionApi();
      let reject!: (error: Error) => void;
      const rejected = new Promise<never>((_, r) => (reject = r));
      api.answerBatch = (ids, call) => (call === 0 ? rejected : answerAll(ids));
      const dispatcher = dispatcherFor(api, { budgetWaitMs: 5000 });
      const lookup = dispatcher.lookup(keys(10));
      await sameTick();
      expect(api.calls).toHaveLength(1);
      dispatcher.close();
      reject(new UpstreamRejectedError('bad parameter', { code: 'ParameterCheckFailed' }));
      const results = await lookup;
      expect(results).toEqual(keys(10).map(() => expect.objectContaining({ code: PresenceErrorCode.UpstreamUnavailable })));
      expect(api.calls).toHaveLength(1);
    });
  });

  describe('Accepts options', () => {
    it('rejects bad options at construction with a message naming the option and the value', () => {
      const api = new FakeSessionApi();
      expect(() => dispatcherFor(api, { cacheTtlMs: -1 })).toThrow('PresenceDispatcher: cacheTtlMs must be a finite number ≥ 0; got -1');
      expect(() => dispatcherFor(api, { budgetWaitMs: Infinity })).toThrow('PresenceDispatcher: budgetWaitMs must be a finite number ≥ 0; got Infinity');
      expect(() => dispatcherFor(api, { partialBatchIntervalMs: NaN })).toThrow('PresenceDispatcher: partialBatchIntervalMs must be a finite number ≥ 0; got NaN');
      expect(() => dispatcherFor({} as FakeSessionApi)).toThrow('PresenceDispatcher: api must implement SessionApi');
      expect(() => dispatcherFor(api, { retry: { maxAttempts: 0, baseDelayMs: 1, totalMs: 1 } })).toThrow('RetryPolicy: maxAttempts');
    });
  });
});
