import {
  PresenceErrorCode,
  UpstreamAuthFailedError,
  UpstreamRejectedError,
  UpstreamThrottledError,
  UpstreamUnavailableError,
} from '../../../src/presence/errors';
import { CallBudget, MemoryBudgetStore } from '../../../src/presence/budget';
import { MemoryPresenceCache } from '../../../src/presence/presence-cache';
import { SessionAction } from '../../../src/presence/session-api';
import { FakeSessionApi, RecordingObserver, answerAll, asStatus, clientIds, dispatcherFor, key, keys, settled } from './fake-session-api';

beforeEach(() => jest.useFakeTimers({ now: 0 }));
afterEach(() => jest.useRealTimers());

const systemOverFlow = () => new UpstreamThrottledError('SystemOverFlow: please try again', 0, { code: 'SystemOverFlow', requestId: 'req-t' });
const internalError = () => new UpstreamUnavailableError('InternalError: try again later', { code: 'InternalError', requestId: 'req-i' });
const parameterCheckFailed = () => new UpstreamRejectedError('ParameterCheckFailed', { code: 'ParameterCheckFailed', requestId: 'req-p' });

/** Scripts the upstream to fail with `errors` in turn, then answer. */
function failingThen(api: FakeSessionApi, ...errors: Error[]): void {
  api.answerBatch = (ids) => {
    const error = errors.shift();
    if (error) throw error;
    return answerAll(ids);
  };
}

describe('PresenceDispatcher under upstream failures', () => {
  describe('Retries retryable faults with backoff', () => {
    it('retries SystemOverFlow and InternalError with jittered backoff, then answers', async () => {
      const api = new FakeSessionApi();
      const observer = new RecordingObserver();
      failingThen(api, systemOverFlow(), internalError());
      const results = await settled(dispatcherFor(api, { observer }).lookup(keys(3)));
      expect(api.calls).toEqual([clientIds(3), clientIds(3), clientIds(3)]);
      expect(api.callTimes).toEqual([0, 25, 75]); // random 0.5 of 50, then of 100
      expect(results.map((result) => asStatus(result).origin)).toEqual(['upstream', 'upstream', 'upstream']);
      expect(observer.upstreamCalls.map(([, outcome]) => outcome)).toEqual(['SystemOverFlow', 'InternalError', 'ok']);
    });

    it('fails only the keys of the call whose retries ran out, with the typed error', async () => {
      const api = new FakeSessionApi();
      api.answerBatch = (ids) => {
        if (ids.length === 10) throw internalError();
        return answerAll(ids);
      };
      const results = await settled(dispatcherFor(api).lookup(keys(15)));
      expect(api.calls).toEqual([clientIds(10), clientIds(5, 10), clientIds(10), clientIds(10)]);
      for (const result of results.slice(0, 10)) {
        expect(result).toMatchObject({ code: PresenceErrorCode.UpstreamUnavailable, upstream: { code: 'InternalError', requestId: 'req-i' } });
      }
      expect(results.slice(10).map((result) => asStatus(result).online)).toEqual([true, true, true, true, true]);
    });

    it('does not retry an authentication failure and keeps its upstream code', async () => {
      const api = new FakeSessionApi();
      failingThen(api, new UpstreamAuthFailedError('InvalidAccessKeyId.NotFound', { code: 'InvalidAccessKeyId.NotFound', requestId: 'req-a' }));
      const results = await settled(dispatcherFor(api).lookup(keys(2)));
      expect(api.calls).toEqual([clientIds(2)]);
      for (const result of results) {
        expect(result).toMatchObject({ code: PresenceErrorCode.UpstreamAuthFailed, upstream: { code: 'InvalidAccessKeyId.NotFound', requestId: 'req-a' } });
      }
    });

    it('takes budget again for each retry', async () => {
      const api = new FakeSessionApi();
      failingThen(api, internalError());
      const lookup = dispatcherFor(api, { batchQps: 1, budgetWaitMs: 5000, retry: { maxAttempts: 2, baseDelayMs: 50, totalMs: 5000, random: () => 0.5 } }).lookup([key(1)]);
      expect(asStatus((await settled(lookup))[0]).online).toBe(true);
      expect(api.callTimes).toEqual([0, 1000]);
    });

    it('treats an unclassified error from the SessionApi as a network fault: retried, then UPSTREAM_UNAVAILABLE', async () => {
      const api = new FakeSessionApi();
      const observer = new RecordingObserver();
      api.answerBatch = () => Promise.reject(new Error('ECONNRESET'));
      const [result] = await settled(dispatcherFor(api, { observer }).lookup([key(1)]));
      expect(result).toMatchObject({ code: PresenceErrorCode.UpstreamUnavailable, upstream: { code: 'network' } });
      expect(api.calls).toHaveLength(3);
      expect(observer.upstreamCalls).toEqual(Array(3).fill([SessionAction.Batch, 'network']));
    });

    it('retries exact lookups the same way', async () => {
      const api = new FakeSessionApi();
      const errors = [systemOverFlow()];
      api.answerExact = () => {
        const error = errors.shift();
        if (error) throw error;
        return { requestId: 'r', online: false };
      };
      const [result] = await settled(dispatcherFor(api).lookupExact([key(1)]));
      expect(api.exactCalls).toEqual([key(1).clientId, key(1).clientId]);
      expect(asStatus(result)).toMatchObject({ online: false, origin: 'upstream' });
    });
  });

  describe("Slows the account's budget after a throttled answer", () => {
    /** Calls made before the first grant leaves the window, when a throttled answer came first. */
    async function callsInFirstSecond(slowdownMs: number): Promise<number[]> {
      const api = new FakeSessionApi();
      failingThen(api, systemOverFlow());
      const batchBudget = new CallBudget({ store: new MemoryBudgetStore(), action: SessionAction.Batch, limitPerSecond: 4, slowdownMs });
      const dispatcher = dispatcherFor(api, { batchBudget });
      const first = dispatcher.lookup(keys(10)); // throttled at 0, retried at 25
      await jest.advanceTimersByTimeAsync(25);
      const rest = dispatcher.lookup(keys(30, 10));
      await settled(Promise.all([first, rest]));
      const sinceFirst = api.callTimes.map((time) => time - api.callTimes[0]);
      return sinceFirst.filter((time) => time < 1000);
    }

    it('grants half the limit right after SystemOverFlow, to every call of the action and not only the retry', async () => {
      // BatchQuerySessionByClientIds at 4 calls/s: the throttled call and its retry leave ⌊4 · 0.5⌋ − 2 = 0 for the others.
      expect(await callsInFirstSecond(2000)).toEqual([0, 25]);
      // Without the slowdown the two calls left in the window go at once.
      expect(await callsInFirstSecond(0)).toEqual([0, 25, 25, 25]);
    });
  });

  describe('Isolates a Client ID the upstream rejects', () => {
    it('halves a call rejected with ParameterCheckFailed until the bad ID stands alone, so the others answer', async () => {
      const api = new FakeSessionApi();
      const bad = key(7).clientId;
      api.answerBatch = (ids) => {
        if (ids.includes(bad)) throw parameterCheckFailed();
        return answerAll(ids);
      };
      const results = await settled(dispatcherFor(api).lookup(keys(10)));
      const ids = (...n: number[]) => n.map((i) => key(i).clientId);
      expect(api.calls).toEqual([clientIds(10), ids(0, 1, 2, 3, 4), ids(5, 6, 7, 8, 9), ids(5, 6, 7), ids(8, 9), ids(5, 6), ids(7)]);
      expect(api.calls.length - 1).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(10))); // one bad ID: ≤ 8 extra calls
      expect(results[7]).toMatchObject({ code: PresenceErrorCode.UpstreamRejected, upstream: { code: 'ParameterCheckFailed' } });
      expect(results.filter((result) => !(result instanceof Error))).toHaveLength(9);
    });

    it('treats InvalidParameter.* like ParameterCheckFailed', async () => {
      const api = new FakeSessionApi();
      const bad = key(0).clientId;
      api.answerBatch = (ids) => {
        if (ids.includes(bad)) throw new UpstreamRejectedError('bad', { code: 'InvalidParameter.ClientIdList' });
        return answerAll(ids);
      };
      const results = await settled(dispatcherFor(api).lookup(keys(2)));
      expect(api.calls).toEqual([clientIds(2), [key(0).clientId], [key(1).clientId]]);
      expect(results[0]).toMatchObject({ code: PresenceErrorCode.UpstreamRejected });
      expect(asStatus(results[1]).online).toBe(true);
    });

    it('stays within 2·10 − 2 extra calls even when every ID of a call is rejected', async () => {
      const api = new FakeSessionApi();
      api.answerBatch = () => {
        throw parameterCheckFailed();
      };
      const results = await settled(dispatcherFor(api).lookup(keys(10)));
      expect(api.calls.length - 1).toBe(18);
      expect(results.every((result) => result instanceof UpstreamRejectedError)).toBe(true);
    });
  });

  describe('Serves the last known status, flagged stale, when the upstream fails', () => {
    const withCache = (api: FakeSessionApi) =>
      dispatcherFor(api, { cache: new MemoryPresenceCache(), cacheTtlMs: 1000, staleIfErrorMs: 60_000, retry: { maxAttempts: 1, baseDelayMs: 1, totalMs: 0 } });

    it('answers a failed key from a cached status younger than staleIfErrorMs, flagged stale', async () => {
      const api = new FakeSessionApi();
      const dispatcher = withCache(api);
      await dispatcher.lookup([key(1)]);
      jest.advanceTimersByTime(5000);
      failingThen(api, internalError());
      const [result] = await settled(dispatcher.lookup([key(1), key(2)]));
      expect(result).toEqual({ online: true, checkedAtMs: 0, stale: true, origin: 'stale' });
    });

    it('fails the key once the cached status is staleIfErrorMs old', async () => {
      const api = new FakeSessionApi();
      const dispatcher = withCache(api);
      await dispatcher.lookup([key(1)]);
      jest.advanceTimersByTime(60_000);
      failingThen(api, internalError());
      const [result] = await settled(dispatcher.lookup([key(1)]));
      expect(result).toMatchObject({ code: PresenceErrorCode.UpstreamUnavailable });
    });

    it('serves no stale status for an authentication failure, which needs an operator', async () => {
      const api = new FakeSessionApi();
      const dispatcher = withCache(api);
      await dispatcher.lookup([key(1)]);
      jest.advanceTimersByTime(5000);
      failingThen(api, new UpstreamAuthFailedError('SignatureDoesNotMatch', { code: 'SignatureDoesNotMatch' }));
      const [result] = await settled(dispatcher.lookup([key(1)]));
      expect(result).toMatchObject({ code: PresenceErrorCode.UpstreamAuthFailed });
    });

    it('never caches a failure: the next lookup asks the upstream again', async () => {
      const api = new FakeSessionApi();
      const dispatcher = withCache(api);
      failingThen(api, internalError());
      const [failed] = await settled(dispatcher.lookup([key(1)]));
      expect(failed).toBeInstanceOf(UpstreamUnavailableError);
      const [answered] = await settled(dispatcher.lookup([key(1)]));
      expect(asStatus(answered).origin).toBe('upstream');
      expect(api.calls).toHaveLength(2);
    });
  });

  describe('Opens a circuit when the upstream keeps failing', () => {
    it('fails fast while open, still serves stale statuses, probes after the cool-down and closes on success', async () => {
      const api = new FakeSessionApi();
      const dispatcher = dispatcherFor(api, {
        cache: new MemoryPresenceCache(),
        cacheTtlMs: 0,
        staleIfErrorMs: 60_000,
        retry: { maxAttempts: 1, baseDelayMs: 1, totalMs: 0 },
        circuitBreaker: { failureThreshold: 2, coolDownMs: 5000 },
      });
      await settled(dispatcher.lookup([key(0)])); // cached, for the stale answer below
      api.answerBatch = () => Promise.reject(internalError());
      await settled(dispatcher.lookup([key(1)]));
      await settled(dispatcher.lookup([key(2)]));
      expect(api.calls).toHaveLength(3);

      const [refused, stale] = await settled(dispatcher.lookup([key(3), key(0)]));
      expect(api.calls).toHaveLength(3); // no call while open
      expect(refused).toMatchObject({ code: PresenceErrorCode.UpstreamUnavailable, message: expect.stringContaining('circuit open') });
      expect(stale).toMatchObject({ online: true, stale: true, origin: 'stale' });

      jest.advanceTimersByTime(5000);
      api.answerBatch = (ids) => answerAll(ids);
      const [probe] = await settled(dispatcher.lookup([key(4)]));
      expect(asStatus(probe).origin).toBe('upstream');
      const [after] = await settled(dispatcher.lookup([key(5)]));
      expect(asStatus(after).origin).toBe('upstream');
      expect(api.calls).toEqual([[key(0).clientId], [key(1).clientId], [key(2).clientId], [key(4).clientId], [key(5).clientId]]);
    });

    it('answers a lookup whose own retries opened the circuit with the upstream\'s last error and its RequestId, not the circuit\'s refusal', async () => {
      const api = new FakeSessionApi();
      const dispatcher = dispatcherFor(api, { retry: { maxAttempts: 10, baseDelayMs: 1, totalMs: 3000, random: () => 0 }, circuitBreaker: { failureThreshold: 3, coolDownMs: 5000 } });
      api.answerBatch = () => Promise.reject(internalError());
      const [result] = await settled(dispatcher.lookup([key(1)]));
      expect(api.calls).toHaveLength(3); // the third failure opened the circuit: no fourth call
      expect(result).toMatchObject({ code: PresenceErrorCode.UpstreamUnavailable, upstream: { code: 'InternalError', requestId: 'req-i' } });
    });
  });
});
