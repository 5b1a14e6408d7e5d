import { makeApiKey } from '../../support/credentials';
import { errorsByPath, postGraphQL, type GraphQLResponse } from '../../support/graphql-client';
import { bearer } from '../../support/secured-graph';
import { startTestGraph, type TestGraph } from '../../support/test-graph';

type Devices = { devices: Array<{ clientId: string; online: boolean | null }> };

/**
 * One caller cannot starve the others of the account's shared budget: each has its own share of
 * lookups per second (CALLER_LOOKUPS_PER_SECOND, here 20). Lookups over it fail with RATE_LIMITED
 * and retryAfterMs at their own paths, and are never sent upstream.
 */
describe('fair share between callers', () => {
  const greedy = makeApiKey('greedy', { instances: ['*'], groups: ['*'] });
  const polite = makeApiKey('polite', { instances: ['*'], groups: ['*'] });
  const reader = makeApiKey('reader', { instances: ['*'], groups: ['*'] });
  const sharer = makeApiKey('sharer', { instances: ['*'], groups: ['*'] });
  let graph: TestGraph;

  beforeAll(async () => {
    graph = await startTestGraph({
      AUTH_MODE: 'apikey',
      API_KEYS: JSON.stringify([greedy.entry, polite.entry, reader.entry, sharer.entry]),
      CALLER_LOOKUPS_PER_SECOND: '20',
      PRESENCE_CACHE_TTL_MS: '60000',
    });
  });
  afterAll(async () => {
    await graph?.stop();
  });
  beforeEach(() => graph.local!.emulator.resetCalls());

  const ask = (key: string, clientIds: string[]) =>
    postGraphQL<Devices>(graph.url, 'query Q($ids: [ID!]!) { devices(clientIds: $ids) { clientId online } }', { ids: clientIds }, bearer(key));

  it('keeps answering a polite caller while a greedy one floods, and sends the greedy excess nowhere', async () => {
    const flood = Array.from({ length: 5 }, (_, request) => Array.from({ length: 50 }, (_, i) => `GID_greedy@@@d-${request}-${i}`));
    const politeIds = Array.from({ length: 5 }, (_, i) => `GID_polite@@@d-${i}`);

    const [politeAnswer, ...floodAnswers] = await Promise.all([ask(polite.key, politeIds), ...flood.map((ids) => ask(greedy.key, ids))]);

    expect(politeAnswer.errors).toBeUndefined();
    expect(politeAnswer.data!.devices.map((device) => device.online)).toEqual([false, false, false, false, false]);

    const answered = floodAnswers.flatMap(answeredIds);
    const limited = floodAnswers.flatMap(rateLimited);
    expect(answered.length + limited.length).toBe(250);
    // One second's share at once, plus whatever refilled while the test ran: far from the 250 asked.
    expect(answered.length).toBeGreaterThanOrEqual(20);
    expect(answered.length).toBeLessThan(40);
    expect(limited.every(({ retryAfterMs }) => typeof retryAfterMs === 'number' && retryAfterMs > 0)).toBe(true);

    const sentUpstream = new Set(graph.local!.emulator.calls.flatMap((call) => call.clientIds));
    expect(sentUpstream).toEqual(new Set([...politeIds, ...answered]));

    // The operator sees at once who was limited, never the Client IDs; the greedy caller's later
    // refusals are counted into one line per 10 s (RefusalLog), not one per request.
    const refusals = graph.logs.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'lookups refused for the caller');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ caller: 'greedy', requests: 1 });
    expect(refusals[0].rateLimited).toBeGreaterThan(0);
    expect(refusals[0].rateLimited).toBeLessThanOrEqual(limited.length);
    expect(JSON.stringify(refusals[0])).not.toContain('GID_greedy');
  });

  it('spends nothing on statuses the cache answers: a caller may re-read them far beyond its share', async () => {
    const ids = Array.from({ length: 15 }, (_, i) => `GID_reader@@@d-${i}`);
    // 15 fresh lookups of the 20 per second; then 10 × 15 cached ones, 7.5 times the share.
    expect((await ask(reader.key, ids)).errors).toBeUndefined();
    const rereads = await Promise.all(Array.from({ length: 10 }, () => ask(reader.key, ids)));
    for (const answer of rereads) {
      expect(answer.errors).toBeUndefined();
      expect(answer.data!.devices).toHaveLength(15);
    }
    expect(graph.local!.emulator.calls.flatMap((call) => call.clientIds).sort()).toEqual([...ids].sort());
    // The share was not touched by the re-reads: 5 fresh lookups still pass, the 6th is over it.
    const fresh = await ask(reader.key, Array.from({ length: 6 }, (_, i) => `GID_reader@@@new-${i}`));
    expect(rateLimited(fresh).length).toBeLessThanOrEqual(1);
    expect(answeredIds(fresh).length).toBeGreaterThanOrEqual(5);
  });

  it('spends nothing on a lookup already under way: ten requests at once for the same 15 statuses cost one share of 15', async () => {
    const ids = Array.from({ length: 15 }, (_, i) => `GID_sharer@@@d-${i}`);
    // A slow upstream, so that every request arrives while the first one's calls are out.
    graph.local!.emulator.setFaults({ latencyMs: 300 });
    try {
      const answers = await Promise.all(Array.from({ length: 10 }, () => ask(sharer.key, ids)));
      for (const answer of answers) {
        expect(answer.errors).toBeUndefined();
        expect(answer.data!.devices).toHaveLength(15);
      }
    } finally {
      graph.local!.emulator.setFaults({ latencyMs: 0 });
    }
    // One lookup per ID upstream, shared by all ten requests.
    expect(graph.local!.emulator.calls.flatMap((call) => call.clientIds).sort()).toEqual([...ids].sort());
  });
});

function answeredIds(response: GraphQLResponse<Devices>): string[] {
  return response.data!.devices.filter((device) => device.online !== null).map((device) => device.clientId);
}

function rateLimited(response: GraphQLResponse<Devices>): Array<{ clientId: string; retryAfterMs: unknown }> {
  const errors = errorsByPath(response.errors);
  return response.data!.devices.flatMap((device, i) => {
    const error = errors.get(`devices.${i}.online`);
    return error?.extensions?.code === 'RATE_LIMITED' ? [{ clientId: device.clientId, retryAfterMs: error.extensions.retryAfterMs }] : [];
  });
}
