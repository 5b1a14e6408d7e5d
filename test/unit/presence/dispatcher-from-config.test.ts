import { loadConfig } from '../../../src/config';
import { MemoryBudgetStore, type BudgetStore } from '../../../src/presence/budget';
import { PresenceErrorCode, UpstreamThrottledError, UpstreamUnavailableError } from '../../../src/presence/errors';
import { createPresenceDispatcher } from '../../../src/presence/dispatcher-from-config';
import { FakeSessionApi, RecordingObserver, answerAll, clientIds, key, keys } from './fake-session-api';

describe('createPresenceDispatcher', () => {
  it('builds a working dispatcher from the default configuration', async () => {
    const api = new FakeSessionApi();
    const observer = new RecordingObserver();
    const dispatcher = createPresenceDispatcher(loadConfig({}).presence, { api, observer, maxCallMs: 7000 });
    const results = await dispatcher.lookup(keys(25));
    expect(api.calls).toEqual([clientIds(10), clientIds(10, 10), clientIds(5, 20)]);
    expect(results.every((result) => !(result instanceof Error))).toBe(true);
    expect(observer.answered).toEqual({ upstream: 25 });
    dispatcher.close();
  });

  it('packs partial calls across requests by default, and sends each at once with UPSTREAM_PARTIAL_BATCH_INTERVAL_MS=0', async () => {
    // Fake time: the default spacing is 10 ms, and a loaded machine must not decide what packs.
    jest.useFakeTimers();
    try {
      const callsFor = async (env: Record<string, string>) => {
        const api = new FakeSessionApi();
        const dispatcher = createPresenceDispatcher(loadConfig(env).presence, { api, maxCallMs: 7000 });
        // Three one-ID requests a millisecond apart, as concurrent requests reach the dispatcher.
        const answers = [dispatcher.lookup([key(0)])];
        for (const n of [1, 2]) {
          await jest.advanceTimersByTimeAsync(1);
          answers.push(dispatcher.lookup([key(n)]));
        }
        await jest.advanceTimersByTimeAsync(1000);
        await Promise.all(answers);
        dispatcher.close();
        return api.calls;
      };
      expect(await callsFor({})).toEqual([clientIds(1), clientIds(2, 1)]);
      expect(await callsFor({ UPSTREAM_PARTIAL_BATCH_INTERVAL_MS: '0' })).toEqual([clientIds(1), clientIds(1, 1), clientIds(1, 2)]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('slows the shared budget for UPSTREAM_THROTTLE_SLOWDOWN_MS after a throttled answer, and not at all with 0', async () => {
    const throttledFor = async (env: Record<string, string>) => {
      const memory = new MemoryBudgetStore();
      const recorded: Array<[string, number]> = [];
      const budgetStore: BudgetStore = { tryAcquire: (...args) => memory.tryAcquire(...args), throttled: async (...args) => void recorded.push(args) };
      const api = new FakeSessionApi();
      let throttle = true;
      api.answerBatch = (ids) => {
        if (!throttle) return answerAll(ids);
        throttle = false;
        throw new UpstreamThrottledError('SystemOverFlow', 1000, { code: 'SystemOverFlow' });
      };
      const dispatcher = createPresenceDispatcher(loadConfig(env).presence, { api, budgetStore, maxCallMs: 7000 });
      const results = await dispatcher.lookup(keys(3));
      expect(results.every((result) => !(result instanceof Error))).toBe(true);
      dispatcher.close();
      return recorded;
    };
    expect(await throttledFor({})).toEqual([['BatchQuerySessionByClientIds', 2000]]);
    expect(await throttledFor({ UPSTREAM_THROTTLE_SLOWDOWN_MS: '0' })).toEqual([]);
  });

  it('opens the circuit after UPSTREAM_BREAKER_FAILURES consecutive failed calls, for UPSTREAM_BREAKER_COOLDOWN_MS', async () => {
    let nowMs = 0;
    const api = new FakeSessionApi();
    api.answerBatch = () => {
      throw new UpstreamUnavailableError('InternalError', { code: 'InternalError' });
    };
    const config = loadConfig({ UPSTREAM_BREAKER_FAILURES: '2', UPSTREAM_BREAKER_COOLDOWN_MS: '700', UPSTREAM_RETRY_MAX_ATTEMPTS: '1' });
    const dispatcher = createPresenceDispatcher(config.presence, { api, maxCallMs: 7000, circuitBreaker: { now: () => nowMs } });

    for (let i = 0; i < 3; i++) await dispatcher.lookup([key(i)]);
    expect(api.calls).toHaveLength(2);
    const [refused] = await dispatcher.lookup([key(9)]);
    expect(refused).toMatchObject({ code: PresenceErrorCode.UpstreamUnavailable, message: expect.stringMatching(/circuit open/) });

    nowMs = 700;
    await dispatcher.lookup([key(10)]);
    expect(api.calls).toHaveLength(3);
    dispatcher.close();
  });
});
