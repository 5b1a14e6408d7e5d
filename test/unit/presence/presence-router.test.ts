import { loadConfig } from '../../../src/config';
import { createPresenceDispatcher } from '../../../src/presence/dispatcher-from-config';
import { InvalidInputError, PresenceErrorCode, UpstreamUnavailableError } from '../../../src/presence/errors';
import { PresenceRouter } from '../../../src/presence/presence-router';
import type { PresenceDispatcher } from '../../../src/presence/presence-dispatcher';
import { FakeSessionApi, clientIds, keys } from './fake-session-api';

/** Two accounts' routes, each a dispatcher on its own FakeSessionApi and its own memory budget. */
describe('PresenceRouter', () => {
  const presence = loadConfig({ UPSTREAM_RETRY_TOTAL_MS: '0', UPSTREAM_BREAKER_FAILURES: '2', PRESENCE_CACHE_TTL_MS: '0' }).presence;
  let alphaApi: FakeSessionApi;
  let betaApi: FakeSessionApi;
  let dispatchers: PresenceDispatcher[];
  let router: PresenceRouter;

  beforeEach(() => {
    alphaApi = new FakeSessionApi();
    betaApi = new FakeSessionApi();
    dispatchers = [alphaApi, betaApi].map((api) => createPresenceDispatcher(presence, { api, maxCallMs: 100 }));
    const routes = new Map([
      ['alpha-1', dispatchers[0]],
      ['alpha-2', dispatchers[0]],
      ['beta-1', dispatchers[1]],
    ]);
    router = new PresenceRouter((instanceId) => routes.get(instanceId), (instanceId) => new InvalidInputError(`${instanceId} is not in the catalogue`));
  });
  afterEach(() => dispatchers.forEach((dispatcher) => dispatcher.close()));

  it('costs Σ ⌈distinct IDs per instance / 10⌉ calls for a request mixing instances, each call to its route, answers in the order asked', async () => {
    const asked = [...keys(12, 0, 'alpha-1'), ...keys(3, 0, 'beta-1'), ...keys(10, 0, 'alpha-2'), ...keys(8, 3, 'beta-1')];
    const results = await router.lookup(asked);

    expect(results).toHaveLength(asked.length);
    expect(results.every((result) => !(result instanceof Error) && result.online)).toBe(true);
    // BatchQuerySessionByClientIds: at most 10 IDs of one instance per call.
    const alphaCalls = alphaApi.calls.map((ids, i) => [alphaApi.instancesCalled[i], ids]);
    expect(alphaCalls).toHaveLength(3);
    expect(alphaCalls).toEqual(expect.arrayContaining([['alpha-1', clientIds(10)], ['alpha-1', clientIds(2, 10)], ['alpha-2', clientIds(10)]]));
    expect(betaApi.calls).toEqual([clientIds(10), clientIds(1, 10)]);
    expect(betaApi.instancesCalled).toEqual(['beta-1', 'beta-1']);
  });

  it('fails a key of an instance no route serves at its own index, with no call, and answers the others', async () => {
    const results = await router.lookup([...keys(1, 0, 'beta-1'), ...keys(1, 0, 'gamma-1')]);
    expect(results[0]).toMatchObject({ online: true });
    expect(results[1]).toBeInstanceOf(InvalidInputError);
    expect((results[1] as InvalidInputError).code).toBe(PresenceErrorCode.BadUserInput);
    expect(alphaApi.calls).toEqual([]);
    expect(betaApi.calls).toHaveLength(1);
    expect(await router.lookupExact(keys(1, 0, 'gamma-1'))).toEqual([expect.any(InvalidInputError)]);
  });

  it('keeps circuits apart: one route failing until its breaker opens leaves the other answering', async () => {
    alphaApi.answerBatch = () => {
      throw new UpstreamUnavailableError('region down');
    };
    for (let round = 0; round < 3; round++) await router.lookup(keys(1, round, 'alpha-1'));
    const callsBefore = alphaApi.calls.length;
    const [alphaResult, betaResult] = await router.lookup([...keys(1, 10, 'alpha-1'), ...keys(1, 10, 'beta-1')]);

    expect(alphaResult).toMatchObject({ message: expect.stringContaining('circuit open') });
    expect(alphaApi.calls).toHaveLength(callsBefore);
    expect(betaResult).toMatchObject({ online: true, origin: 'upstream' });
  });
});
