import { startSimulatedDevices, type SimulatedDevices } from '../../src/local/device-simulator';
import { BATCH_PATH_ONLY, SessionAction, startTestGraph, type TestGraph } from '../support/test-graph';

type DevicesResult = { data?: { devices: Array<{ clientId: string; online: boolean | null }> }; errors?: unknown[] };

/**
 * Operation batching: a JSON array of operations in one POST (Apollo Client's BatchHttpLink) is ONE
 * request. Its operations share one context, so one DataLoader and one MAX_IDS_PER_REQUEST budget;
 * a batch over either limit is refused whole, before any upstream call.
 */
describe('operation batching', () => {
  let graph: TestGraph;
  let devices: SimulatedDevices;
  const id = (n: number) => `GID_batch@@@device-${n}`;
  const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => id(from + i));

  beforeAll(async () => {
    graph = await startTestGraph(BATCH_PATH_ONLY);
    devices = await startSimulatedDevices({ url: graph.local!.mqttUrl, count: 5, groupId: 'GID_batch', prefix: 'device-' });
  });
  afterAll(async () => {
    await devices?.stop();
    await graph?.stop();
  });
  beforeEach(() => graph.local!.emulator.resetCalls());

  const batchCalls = () => graph.upstreamCalls(SessionAction.Batch);
  const devicesOperation = (clientIds: string[]) => ({
    query: 'query Statuses($clientIds: [ID!]!) { devices(clientIds: $clientIds) { clientId online } }',
    variables: { clientIds },
  });
  const postBatch = async (operations: unknown[]) => {
    const response = await fetch(graph.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(operations) });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  it('answers 3 operations over 25 distinct IDs, overlapping, in exactly 3 batch calls that ask each ID once', async () => {
    const asked = [ids(1, 12), ids(8, 20), ids(15, 25)];
    const { status, body } = await postBatch(asked.map(devicesOperation));

    expect(status).toBe(200);
    const results = body as DevicesResult[];
    expect(results).toHaveLength(3);
    results.forEach((result, i) => {
      expect(result.errors).toBeUndefined();
      expect(result.data!.devices).toEqual(asked[i].map((clientId) => ({ clientId, online: devices.clientIds.includes(clientId) })));
    });
    expect(batchCalls()).toHaveLength(Math.ceil(25 / 10));
    const sent = batchCalls().flatMap((call) => call.clientIds);
    expect(sent.sort()).toEqual(ids(1, 25).sort());
  });

  it('counts the distinct IDs of the whole batch against MAX_IDS_PER_REQUEST, and accepts 3 × 40 IDs that are 60 distinct', async () => {
    const { status, body } = await postBatch([ids(1, 40), ids(11, 50), ids(21, 60)].map(devicesOperation));

    expect(status).toBe(200);
    expect((body as DevicesResult[]).every((result) => result.errors === undefined)).toBe(true);
    expect(batchCalls()).toHaveLength(6);
  });

  it('refuses a batch whose operations together ask for more than 100 distinct IDs, before any upstream call', async () => {
    // Each operation alone is within the cap; together they ask for 120 distinct devices.
    const { status, body } = await postBatch([ids(1, 40), ids(41, 80), ids(81, 120)].map(devicesOperation));

    expect(status).toBe(400);
    expect(body).toEqual({
      errors: [{ message: expect.stringMatching(/batch of 3 operations asks for 120 distinct Client IDs; at most 100/), extensions: { code: 'BAD_USER_INPUT' } }],
    });
    expect(graph.local!.emulator.calls).toHaveLength(0);
  });

  it('refuses a batch of 11 operations with 400 and runs none of them', async () => {
    const { status, body } = await postBatch(Array.from({ length: 11 }, (_, i) => devicesOperation([id(i + 1)])));

    expect(status).toBe(400);
    expect(body).toEqual({
      errors: [{ message: 'This request batches 11 operations; at most 10 are allowed per HTTP request', extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(graph.local!.emulator.calls).toHaveLength(0);
  });

  it('answers each operation of a batch on its own: a malformed one fails alone, and the batch answers 400', async () => {
    const { status, body } = await postBatch([devicesOperation([id(1)]), { query: '{ devices(clientIds: [) { online } }' }, devicesOperation([id(9)])]);

    // One HTTP status for the whole batch: Apollo answers 400 when any operation is a request error.
    expect(status).toBe(400);
    const [first, broken, last] = body as DevicesResult[];
    expect(first.data!.devices).toEqual([{ clientId: id(1), online: true }]);
    expect(broken).toEqual({ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'GRAPHQL_PARSE_FAILED' }) })] });
    expect(last.data!.devices).toEqual([{ clientId: id(9), online: false }]);
  });
});
