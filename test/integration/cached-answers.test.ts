import { errorsByPath, postGraphQL } from '../support/graphql-client';
import { BATCH_PATH_ONLY, startTestGraph, type TestGraph } from '../support/test-graph';

type Devices = { devices: Array<{ clientId: string; online: boolean | null; presence: { online: boolean; source: string; checkedAt: string } | null }> };

/**
 * Statuses the in-process cache holds are answered at once, without a DataLoader round (the fast path
 * of an all-cached request): the answers, errors, upstream calls and metrics must be those of the
 * loader path they replace.
 */
describe('answers from the in-process cache', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startTestGraph({ ...BATCH_PATH_ONLY, PRESENCE_CACHE_TTL_MS: '60000', LOCAL_DEMO_DEVICES: '2' });
  });
  afterAll(async () => {
    await graph?.stop();
  });

  const QUERY = 'query Q($ids: [ID!]!) { devices(clientIds: $ids) { clientId online presence { online source checkedAt } } }';
  const ask = (clientIds: string[]) => postGraphQL<Devices>(graph.url, QUERY, { ids: clientIds });
  const cacheLookups = async () => {
    const metrics = await (await fetch(graph.url.replace('/graphql', '/metrics'))).text();
    return Number(/^presence_lookups_total\{result="cache"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
  };

  it('answers a repeated query from the cache with the first answers, one upstream call in all, counted as cache lookups', async () => {
    const ids = ['GID_demo@@@device-1', 'GID_demo@@@device-2', 'GID_demo@@@nobody', 'GID_demo@@@device-1'];
    graph.local!.emulator.resetCalls();
    const first = await ask(ids);
    expect(first.errors).toBeUndefined();
    expect(first.data!.devices.map((d) => [d.online, d.presence!.source])).toEqual([
      [true, 'BATCH'],
      [true, 'BATCH'],
      [false, 'BATCH'],
      [true, 'BATCH'],
    ]);
    const before = await cacheLookups();

    const second = await ask(ids);
    expect(second.errors).toBeUndefined();
    expect(second.data!.devices.map((d) => [d.clientId, d.online, d.presence!.online, d.presence!.source])).toEqual(
      first.data!.devices.map((d) => [d.clientId, d.online, d.presence!.online, 'CACHE']),
    );
    // When the upstream was asked, not when the cache was read.
    expect(second.data!.devices.map((d) => d.presence!.checkedAt)).toEqual(first.data!.devices.map((d) => d.presence!.checkedAt));
    expect(graph.local!.emulator.calls).toHaveLength(1);
    // Three distinct devices, each answered from the cache once for the request.
    expect((await cacheLookups()) - before).toBe(3);
  });

  it('fails only the malformed ID of a request whose other IDs are cached or not', async () => {
    await ask(['GID_demo@@@device-1']);
    const answer = await ask(['GID_demo@@@device-1', 'not-a-client-id', 'GID_demo@@@never-asked']);
    expect(answer.data!.devices.map((d) => d.online)).toEqual([true, null, false]);
    expect(answer.data!.devices.map((d) => d.presence?.source ?? null)).toEqual(['CACHE', null, 'BATCH']);
    const errors = errorsByPath(answer.errors);
    expect([...errors.keys()].sort()).toEqual(['devices.1.online', 'devices.1.presence']);
    expect(errors.get('devices.1.online')?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
