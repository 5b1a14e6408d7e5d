import { startSimulatedDevices, type SimulatedDevices } from '../../src/local/device-simulator';
import { startCatalogSubgraph, type CatalogDevice, type CatalogSubgraph } from '../fixtures/catalog-subgraph';
import { deviceGlobalId } from '../../src/graphql/device-id';
import { errorsByPath, postGraphQL } from '../support/graphql-client';
import { startTestGateway, type TestGateway } from '../support/test-gateway';
import { BATCH_PATH_ONLY, SessionAction, startTestGraph, type TestGraph } from '../support/test-graph';

type Fleet = { fleet: Array<{ clientId: string; name: string; online: boolean | null }> };

const clientId = (n: number) => `GID_fleet@@@device-${n}`;
const record = (n: number): CatalogDevice => ({ clientId: clientId(n), name: `Fleet device ${n}` });
const fleetQuery = (size: number) => `{ fleet(size: ${size}) { clientId name online } }`;

/**
 * The Presence Graph as one subgraph of a supergraph: a device catalog owns `Device.name` and the
 * fleet list, this service adds `Device.online`, and a real Apollo Gateway plans the query. The
 * gateway asks for every Device of a list in ONE `_entities` call, which the service's per-request
 * DataLoader turns into ⌈n/10⌉ BatchQuerySessionByClientIds calls (at most 10 IDs per call).
 */
describe('the Presence Graph composed with a device catalog through @apollo/gateway', () => {
  let graph: TestGraph;
  let devices: SimulatedDevices;
  let catalog: CatalogSubgraph;
  let gateway: TestGateway;

  beforeAll(async () => {
    graph = await startTestGraph(BATCH_PATH_ONLY);
    // GID_fleet@@@device-1 … -12: real MQTT sessions on the local instance's broker.
    devices = await startSimulatedDevices({ url: graph.local!.mqttUrl, count: 12, groupId: 'GID_fleet', prefix: 'device-' });
    catalog = await startCatalogSubgraph(Array.from({ length: 120 }, (_, i) => record(i + 1)));
    gateway = await startTestGateway([
      { name: 'presence', url: graph.url },
      { name: 'catalog', url: catalog.url },
    ]);
  });
  afterAll(async () => {
    await gateway?.stop();
    await catalog?.stop();
    await devices?.stop();
    await graph?.stop();
  });
  beforeEach(() => graph.local!.emulator.resetCalls());

  const batchCalls = () => graph.upstreamCalls(SessionAction.Batch);

  it('answers a fleet of 35 with every name from the catalog and every status from the broker, in exactly 4 batch calls', async () => {
    const response = await postGraphQL<Fleet>(gateway.url, fleetQuery(35));

    expect(response.errors).toBeUndefined();
    const expected = Array.from({ length: 35 }, (_, i) => ({ ...record(i + 1), online: devices.clientIds.includes(clientId(i + 1)) }));
    expect(response.data!.fleet).toEqual(expected);
    expect(expected.filter((device) => device.online)).toHaveLength(12);
    expect(batchCalls()).toHaveLength(Math.ceil(35 / 10));
    expect(batchCalls().map((call) => call.clientIds.length).sort((a, b) => a - b)).toEqual([5, 10, 10, 10]);
    expect(new Set(batchCalls().flatMap((call) => call.clientIds))).toEqual(new Set(expected.map((device) => device.clientId)));
  });

  it('answers a fleet of 10 in exactly 1 batch call', async () => {
    const response = await postGraphQL<Fleet>(gateway.url, fleetQuery(10));

    expect(response.errors).toBeUndefined();
    expect(response.data!.fleet.map((device) => device.online)).toEqual(Array.from({ length: 10 }, () => true));
    expect(batchCalls()).toHaveLength(1);
    expect(batchCalls()[0].clientIds).toHaveLength(10);
  });

  it('refuses 101 entities in one _entities call with BAD_USER_INPUT, before any upstream call', async () => {
    const response = await postGraphQL<Fleet>(gateway.url, fleetQuery(101));

    // The subgraph answers the refused _entities request with HTTP 400; @apollo/gateway reports that
    // as "400: Bad Request" and carries the subgraph's own error in extensions.response.body.
    expect(response.errors).toHaveLength(1);
    const subgraphResponse = response.errors![0].extensions?.response as { status: number; body: { errors: Array<{ message: string; extensions: { code: string } }> } };
    expect(subgraphResponse.status).toBe(400);
    expect(subgraphResponse.body.errors).toEqual([
      { message: expect.stringMatching(/101 distinct Client IDs; at most 100/), extensions: { code: 'BAD_USER_INPUT' } },
    ]);
    // The catalog's part still stands; only the presence of the fleet is missing.
    expect(response.data!.fleet).toHaveLength(101);
    expect(response.data!.fleet.every((device) => device.online === null && device.name === `Fleet device ${device.clientId.split('-')[1]}`)).toBe(true);
    expect(graph.local!.emulator.calls).toHaveLength(0);
  });

  it('serves _service { sdl } with the federation directives a router composes from', async () => {
    const response = await postGraphQL<{ _service: { sdl: string } }>(graph.url, '{ _service { sdl } }');

    expect(response.errors).toBeUndefined();
    const sdl = response.data!._service.sdl;
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])');
    expect(sdl).toMatch(/type Device implements Node\s+@key\(fields: "clientId"\)\s+@key\(fields: "instanceId clientId"\)/);
    expect(sdl).toMatch(/online\(\s*("""[^]*?"""\s*)?exact: Boolean = false\s*\): Boolean/);
  });

  it('resolves a Device representation carrying both key fields, instanceId and clientId, through the same batch loader', async () => {
    const instanceId = graph.local!.instanceId;
    const response = await postGraphQL<{ _entities: Array<{ id: string; instanceId: string; clientId: string; online: boolean | null }> }>(
      graph.url,
      'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Device { id instanceId clientId online } } }',
      {
        representations: [
          { __typename: 'Device', instanceId, clientId: clientId(1) },
          { __typename: 'Device', clientId: clientId(2) },
          { __typename: 'Device', instanceId, clientId: clientId(99) },
        ],
      },
    );

    expect(response.errors).toBeUndefined();
    expect(response.data!._entities).toEqual([
      { id: deviceGlobalId({ instanceId, clientId: clientId(1) }), instanceId, clientId: clientId(1), online: true },
      { id: deviceGlobalId({ instanceId, clientId: clientId(2) }), instanceId, clientId: clientId(2), online: true },
      { id: deviceGlobalId({ instanceId, clientId: clientId(99) }), instanceId, clientId: clientId(99), online: false },
    ]);
    expect(batchCalls()).toHaveLength(1);
    expect(batchCalls()[0].clientIds.sort()).toEqual([clientId(1), clientId(2), clientId(99)].sort());
  });

  describe('with a catalog record whose Client ID is mistyped', () => {
    let oddCatalog: CatalogSubgraph;
    let oddGateway: TestGateway;
    const mistyped = 'GID_fleet@@device-7'; // two @ instead of three: not a Client ID

    beforeAll(async () => {
      oddCatalog = await startCatalogSubgraph([record(1), { clientId: mistyped, name: 'Mistyped record' }, record(20)]);
      oddGateway = await startTestGateway([
        { name: 'presence', url: graph.url },
        { name: 'catalog', url: oddCatalog.url },
      ]);
    });
    afterAll(async () => {
      await oddGateway?.stop();
      await oddCatalog?.stop();
    });

    it('fails only that entity with BAD_USER_INPUT at its own path, never sends it upstream, and answers the rest', async () => {
      const response = await postGraphQL<Fleet>(oddGateway.url, fleetQuery(3));

      expect(response.data!.fleet).toEqual([
        { ...record(1), online: true },
        { clientId: mistyped, name: 'Mistyped record', online: null },
        { ...record(20), online: false },
      ]);
      expect(response.errors).toHaveLength(1);
      const error = errorsByPath(response.errors).get('fleet.1.online');
      expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error?.message).toMatch(/<GroupID>@@@<DeviceID>/);
      expect(batchCalls().flatMap((call) => call.clientIds).sort()).toEqual([clientId(1), clientId(20)]);
    });
  });
});
