import { errorsByPath, postGraphQL } from '../support/graphql-client';
import { startTestGraph, type TestGraph } from '../support/test-graph';
import { startStandInOpenApi, type StandInOpenApi } from './upstream/stand-in-openapi';

const INSTANCE_ID = 'post-cn-standin01';
const SECRET = 'stand-in-secret-value-7f3a9c';

/**
 * PRESENCE_SOURCE=alibaba as an operator configures it (endpoint, instance, AccessKey from the
 * environment), against an independent stand-in of the onsmqtt endpoint that answers in reverse
 * order and can leave IDs out: the service's behaviour must not depend on the local emulator.
 */
describe('the service on PRESENCE_SOURCE=alibaba', () => {
  let standIn: StandInOpenApi;
  let graph: TestGraph;
  const id = (i: number) => `GID_fleet@@@unit-${i}`;
  const batchRequests = () => standIn.requests.filter((r) => r.headers['x-acs-action'] === 'BatchQuerySessionByClientIds');
  const exactRequests = () => standIn.requests.filter((r) => r.headers['x-acs-action'] === 'QuerySessionByClientId');

  beforeAll(async () => {
    standIn = await startStandInOpenApi(INSTANCE_ID);
    for (let i = 0; i < 30; i++) standIn.online.set(id(i), i % 3 === 0);
    graph = await startTestGraph({
      PRESENCE_SOURCE: 'alibaba',
      // One anonymous test caller: the cloud source refuses to start anonymous unless told.
      ALLOW_ANONYMOUS: 'true',
      ONSMQTT_ENDPOINT: standIn.endpoint,
      MQTT_INSTANCE_ID: INSTANCE_ID,
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIstandinkey01',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET,
    });
  });
  afterAll(async () => {
    await graph?.stop();
    await standIn?.close();
  });
  beforeEach(() => {
    (standIn.requests as unknown[]).length = 0;
    standIn.omitted.clear();
  });

  it('answers 25 IDs with 20 distinct in exactly 2 signed batch calls, every status right', async () => {
    const distinct = Array.from({ length: 20 }, (_, i) => id(i));
    const asked = [...distinct, ...distinct.slice(0, 5)];
    const response = await postGraphQL<{ devices: Array<{ clientId: string; online: boolean }> }>(
      graph.url,
      'query($ids: [ID!]!) { devices(clientIds: $ids) { clientId online } }',
      { ids: asked },
    );

    expect(response.errors).toBeUndefined();
    expect(response.data!.devices).toEqual(asked.map((clientId) => ({ clientId, online: standIn.online.get(clientId) })));
    expect(batchRequests()).toHaveLength(2);
    for (const request of batchRequests()) {
      expect(request.headers.authorization).toMatch(/^ACS3-HMAC-SHA256 Credential=LTAIstandinkey01,/);
      expect(request.query.get('InstanceId')).toBe(INSTANCE_ID);
    }
  });

  it('treats an ID missing from the answer as an error at its path, never as offline', async () => {
    standIn.omitted.add(id(3));
    const response = await postGraphQL<{ devices: Array<{ online: boolean | null }> }>(
      graph.url,
      `{ devices(clientIds: ["${id(3)}", "${id(4)}"]) { online } }`,
    );

    expect(response.data!.devices).toEqual([{ online: null }, { online: false }]);
    expect(errorsByPath(response.errors).get('devices.0.online')?.extensions).toMatchObject({
      code: 'UPSTREAM_REJECTED',
      upstream: { code: 'MissingFromAnswer' },
    });
  });

  it('costs one QuerySessionByClientId per exact lookup', async () => {
    const response = await postGraphQL(
      graph.url,
      `{ a: device(clientId: "${id(0)}") { online(exact: true) } b: device(clientId: "${id(1)}") { online(exact: true) }
         c: device(clientId: "${id(2)}") { online(exact: true) } }`,
    );
    expect(response.data).toEqual({ a: { online: true }, b: { online: false }, c: { online: false } });
    expect(exactRequests()).toHaveLength(3);
    expect(batchRequests()).toHaveLength(0);
  });

  it('exposes the three contract series on /metrics', async () => {
    const metrics = await (await fetch(graph.url.replace('/graphql', '/metrics'))).text();
    expect(metrics).toMatch(/^presence_upstream_requests_total\{action="BatchQuerySessionByClientIds",outcome="ok"\} \d+$/m);
    expect(metrics).toMatch(/^presence_upstream_batch_size_bucket\{le="10"\} \d+$/m);
    expect(metrics).toMatch(/^presence_lookups_total\{result="upstream"\} \d+$/m);
  });

  it('never writes the AccessKey secret to its logs, and logs a failing upstream once per kind, not per request', async () => {
    standIn.fault = 'InternalError';
    try {
      // Six requests one after another, each with its own uncached ID: each fails on its own calls.
      for (let i = 24; i < 30; i++) {
        const response = await postGraphQL(graph.url, `{ device(clientId: "${id(i)}") { online } }`);
        expect(errorsByPath(response.errors).get('device.online')?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      }
    } finally {
      standIn.fault = undefined;
    }
    const failureLines = graph.logs.map((line) => JSON.parse(line) as { code?: string; upstream?: { code: string; requestId?: string } }).filter((line) => line.code === 'UPSTREAM_UNAVAILABLE');
    // The first InternalError at once, with the RequestId support asks for; the repeats are counted
    // for the next summary line. (After five failed calls the circuit opens: a kind of its own.)
    expect(failureLines.filter((line) => line.upstream?.code === 'InternalError')).toEqual([
      expect.objectContaining({ upstream: { code: 'InternalError', requestId: expect.any(String) } }),
    ]);
    expect(failureLines.length).toBeLessThanOrEqual(2);
    expect(graph.logs.join('\n')).not.toContain(SECRET);
  });
});
