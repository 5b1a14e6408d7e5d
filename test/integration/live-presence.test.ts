import mqtt from 'mqtt';
import { errorsByPath, postGraphQL } from '../support/graphql-client';
import { BATCH_PATH_ONLY, startTestGraph, type TestGraph } from '../support/test-graph';
import { waitFor } from '../support/wait-for';

const BATCH_LAG_MS = 1500;

/**
 * The local instance's broker is the truth: a real MQTT client connecting shows up online, and
 * leaving shows up offline at once for exact answers and after the configured lag for batch answers,
 * like the cloud's internal cache.
 */
describe('live presence from real MQTT connections', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startTestGraph({ ...BATCH_PATH_ONLY, LOCAL_BATCH_LAG_MS: String(BATCH_LAG_MS) });
  });
  afterAll(async () => {
    await graph?.stop();
  });

  const status = async (clientId: string) => {
    const response = await postGraphQL<{ batch: { online: boolean }; exact: { online: boolean } }>(
      graph.url,
      `{ batch: device(clientId: "${clientId}") { online } exact: device(clientId: "${clientId}") { online(exact: true) } }`,
    );
    expect(response.errors).toBeUndefined();
    return { batch: response.data!.batch.online, exact: response.data!.exact.online };
  };

  it('shows a connecting client online, and offline after it disconnects: exact at once, batch after the lag', async () => {
    const clientId = 'GID_live@@@sensor-1';
    expect(await status(clientId)).toEqual({ batch: false, exact: false });

    const client = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId, reconnectPeriod: 0 });
    expect((await status(clientId)).exact).toBe(true);
    await waitFor('the batch answer to see the connection', async () => (await status(clientId)).batch, BATCH_LAG_MS * 4);

    await client.endAsync();
    await waitFor('the broker to see the disconnect', () => !graph.local!.sessions.isOnline(clientId));
    const leftAt = Date.now();
    expect(await status(clientId)).toEqual({ batch: true, exact: false });

    await waitFor('the batch answer to catch up', async () => !(await status(clientId)).batch, BATCH_LAG_MS * 4);
    expect(Date.now() - leftAt).toBeGreaterThanOrEqual(BATCH_LAG_MS - 100);
  });
});

describe('partial failure', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startTestGraph({ UPSTREAM_RETRY_MAX_ATTEMPTS: '1' });
  });
  afterAll(async () => {
    await graph?.stop();
  });
  afterEach(() => graph.local!.emulator.setFaults({ internalErrorRate: 0, systemOverFlowRate: 0 }));

  it('fails only the IDs of an instance the upstream refuses, each at its own path, with the upstream RequestId', async () => {
    const query = `{ ours: devices(clientIds: ["GID_partial@@@1", "GID_partial@@@2"]) { online }
                     theirs: devices(clientIds: ["GID_partial@@@1"], instanceId: "mqtt-not-ours") { clientId online } }`;
    const response = await postGraphQL<{ ours: Array<{ online: boolean }>; theirs: Array<{ online: boolean | null }> }>(graph.url, query);

    expect(response.data!.ours).toEqual([{ online: false }, { online: false }]);
    expect(response.data!.theirs).toEqual([{ clientId: 'GID_partial@@@1', online: null }]);
    const errors = errorsByPath(response.errors);
    expect([...errors.keys()]).toEqual(['theirs.0.online']);
    expect(errors.get('theirs.0.online')!.extensions).toMatchObject({
      code: 'UPSTREAM_AUTH_FAILED',
      upstream: { code: 'InstancePermissionCheckFailed', requestId: expect.any(String) },
    });
  });

  it('nulls exactly the IDs whose upstream call failed under injected InternalError, and keeps the list', async () => {
    graph.local!.emulator.setFaults({ internalErrorRate: 0.5 });
    graph.local!.emulator.resetCalls();
    const clientIds = Array.from({ length: 60 }, (_, i) => `GID_partial@@@dev-${i}`);
    const response = await postGraphQL<{ devices: Array<{ clientId: string; online: boolean | null }> }>(
      graph.url,
      'query($ids: [ID!]!) { devices(clientIds: $ids) { clientId online } }',
      { ids: clientIds },
    );

    const failedUpstream = new Set(graph.local!.emulator.calls.filter((call) => call.code === 'InternalError').flatMap((call) => call.clientIds));
    const errors = errorsByPath(response.errors);
    expect(response.data!.devices).toHaveLength(60);
    response.data!.devices.forEach((device, i) => {
      const error = errors.get(`devices.${i}.online`);
      if (failedUpstream.has(device.clientId)) {
        expect({ clientId: device.clientId, online: device.online, code: error?.extensions?.code }).toEqual({
          clientId: device.clientId,
          online: null,
          code: 'UPSTREAM_UNAVAILABLE',
        });
      } else {
        expect({ clientId: device.clientId, online: device.online, error }).toEqual({ clientId: device.clientId, online: false, error: undefined });
      }
    });
  });
});
