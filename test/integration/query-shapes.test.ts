import { DeviceOnlineDocument, DevicesOnlineDocument, FleetDashboardDocument } from '../../generated/graphql';
import { deviceGlobalId } from '../../src/graphql/device-id';
import { startSimulatedDevices, type SimulatedDevices } from '../../src/local/device-simulator';
import { errorsByPath, postGraphQL } from '../support/graphql-client';
import { BATCH_PATH_ONLY, SessionAction, startTestGraph, type TestGraph } from '../support/test-graph';

/**
 * However a client asks, every requested Client ID reaches the upstream in ⌈distinct IDs / 10⌉
 * BatchQuerySessionByClientIds calls (BatchQuerySessionByClientIds: at most 10 IDs per call), and each
 * ID gets its status or an error at its own path. Runs the whole service on the local instance, with
 * real MQTT devices connected to its broker.
 */
describe('query shapes on the local instance', () => {
  let graph: TestGraph;
  let devices: SimulatedDevices;
  const online = (i: number) => `GID_shape@@@online-${i}`;
  const offline = (i: number) => `GID_shape@@@offline-${i}`;

  beforeAll(async () => {
    graph = await startTestGraph(BATCH_PATH_ONLY);
    devices = await startSimulatedDevices({ url: graph.local!.mqttUrl, count: 12, groupId: 'GID_shape', prefix: 'online-' });
  });
  afterAll(async () => {
    await devices?.stop();
    await graph?.stop();
  });
  beforeEach(() => graph.local!.emulator.resetCalls());

  const batchCalls = () => graph.upstreamCalls(SessionAction.Batch);

  it('answers 25 IDs with 20 distinct in exactly 2 batch calls, in the order asked, duplicates kept', async () => {
    const distinct = [...Array.from({ length: 10 }, (_, i) => online(i + 1)), ...Array.from({ length: 10 }, (_, i) => offline(i + 1))];
    const asked = [...distinct, ...distinct.slice(0, 5)];
    const response = await postGraphQL(graph.url, DevicesOnlineDocument, { clientIds: asked });

    expect(response.errors).toBeUndefined();
    expect(response.data!.devices.map((d) => d.clientId)).toEqual(asked);
    expect(response.data!.devices.map((d) => d.online)).toEqual(asked.map((id) => devices.clientIds.includes(id)));
    expect(batchCalls()).toHaveLength(2);
    expect(batchCalls().map((call) => call.clientIds.length).sort()).toEqual([10, 10]);
    expect(new Set(batchCalls().flatMap((call) => call.clientIds))).toEqual(new Set(distinct));
  });

  it('packs aliases and fragments over 13 distinct IDs into 2 calls', async () => {
    const fields = Array.from({ length: 13 }, (_, i) => `d${i}: device(clientId: "${i % 2 ? offline(i) : online(i + 1)}") { ...S }`);
    const query = `{ ${fields.join('\n')} again: device(clientId: "${online(1)}") { ...S } } fragment S on Device { clientId online }`;
    const response = await postGraphQL<Record<string, { clientId: string; online: boolean }>>(graph.url, query);

    expect(response.errors).toBeUndefined();
    for (const [alias, device] of Object.entries(response.data!)) {
      expect({ alias, online: device.online }).toEqual({ alias, online: devices.clientIds.includes(device.clientId) });
    }
    expect(batchCalls()).toHaveLength(2);
  });

  it('shares one set of calls between device and devices in one operation', async () => {
    const query = `{ one: device(clientId: "${online(1)}") { online } many: devices(clientIds: ["${online(1)}", "${offline(1)}"]) { online } }`;
    const response = await postGraphQL<{ one: { online: boolean }; many: Array<{ online: boolean }> }>(graph.url, query);

    expect(response.data).toEqual({ one: { online: true }, many: [{ online: true }, { online: false }] });
    expect(batchCalls()).toEqual([expect.objectContaining({ clientIds: expect.arrayContaining([online(1), offline(1)]) })]);
    expect(batchCalls()[0].clientIds).toHaveLength(2);
  });

  it('asks QuerySessionByClientId once per device for exact answers, and never the batch action', async () => {
    const query = `{ a: device(clientId: "${online(1)}") { online(exact: true) } b: device(clientId: "${online(2)}") { online(exact: true) }
                     c: device(clientId: "${offline(1)}") { online(exact: true) } }`;
    const response = await postGraphQL(graph.url, query);

    expect(response.data).toEqual({ a: { online: true }, b: { online: true }, c: { online: false } });
    expect(graph.upstreamCalls(SessionAction.Exact)).toHaveLength(3);
    expect(batchCalls()).toHaveLength(0);
  });

  it('fails only a malformed ID, at its own path, and never sends it upstream', async () => {
    const response = await postGraphQL(graph.url, DevicesOnlineDocument, { clientIds: [online(1), 'not-a-client-id', offline(1)] });

    expect(response.data!.devices.map((d) => d.online)).toEqual([true, null, false]);
    const error = errorsByPath(response.errors).get('devices.1.online');
    expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error?.message).toMatch(/<GroupID>@@@<DeviceID>/);
    expect(batchCalls().flatMap((call) => call.clientIds)).not.toContain('not-a-client-id');
  });

  it('refuses 101 distinct IDs before any upstream call', async () => {
    const clientIds = Array.from({ length: 101 }, (_, i) => offline(i));
    const response = await postGraphQL(graph.url, DevicesOnlineDocument, { clientIds });

    expect(response.status).toBe(400);
    expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0].message).toMatch(/101 distinct Client IDs; at most 100/);
    expect(graph.local!.emulator.calls).toHaveLength(0);
  });

  describe('Relay node and nodes, by Device.id', () => {
    type Node = { id: string; clientId?: string; online?: boolean | null } | null;
    const idOf = (clientId: string) => deviceGlobalId({ instanceId: graph.local!.instanceId, clientId });

    it('fetches devices again by the id a query gave, sharing the batch calls of devices, in the order asked', async () => {
      const listed = await postGraphQL<{ devices: Array<{ id: string; clientId: string }> }>(graph.url, '{ devices(clientIds: ["GID_shape@@@online-1"]) { id clientId } }');
      expect(listed.data!.devices[0].id).toBe(idOf(online(1)));
      graph.local!.emulator.resetCalls();

      const ids = [...Array.from({ length: 6 }, (_, i) => idOf(online(i + 1))), ...Array.from({ length: 6 }, (_, i) => idOf(offline(i + 1)))];
      const response = await postGraphQL<{ one: Node; many: Node[]; more: Array<{ online: boolean | null }> }>(
        graph.url,
        `query($id: ID!, $ids: [ID!]!) {
          one: node(id: $id) { id ... on Device { clientId online } }
          many: nodes(ids: $ids) { id ... on Device { online } }
          more: devices(clientIds: ["${offline(7)}", "${offline(8)}"]) { online }
        }`,
        { id: ids[0], ids },
      );

      expect(response.errors).toBeUndefined();
      expect(response.data!.one).toEqual({ id: ids[0], clientId: online(1), online: true });
      expect(response.data!.many).toEqual(ids.map((id, i) => ({ id, online: i < 6 })));
      // 14 distinct devices: 2 calls of at most 10 IDs.
      expect(batchCalls()).toHaveLength(2);
    });

    it('answers a malformed or foreign ID with null and BAD_USER_INPUT at its own index, and never sends it upstream', async () => {
      const response = await postGraphQL<{ nodes: Node[] }>(graph.url, 'query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Device { online } } }', {
        ids: [idOf(online(2)), 'not-an-id', Buffer.from('User:1').toString('base64url')],
      });

      expect(response.data!.nodes).toEqual([{ id: idOf(online(2)), online: true }, null, null]);
      expect(errorsByPath(response.errors).get('nodes.1')?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(errorsByPath(response.errors).get('nodes.2')?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(batchCalls().flatMap((call) => call.clientIds)).toEqual([online(2)]);
    });

    it('holds nodes to MAX_IDS_PER_REQUEST: 101 distinct IDs are refused before any upstream call', async () => {
      const ids = Array.from({ length: 101 }, (_, i) => idOf(offline(i)));
      const response = await postGraphQL(graph.url, 'query($ids: [ID!]!) { nodes(ids: $ids) { ... on Device { online } } }', { ids });

      expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0].message).toMatch(/101 distinct Client IDs; at most 100/);
      expect(graph.local!.emulator.calls).toHaveLength(0);
    });
  });

  it('refuses a federation representation whose clientId is not a string at its own path, and answers the rest', async () => {
    const response = await postGraphQL<{ _entities: Array<{ online: boolean } | null> }>(
      graph.url,
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Device { online } } }',
      { r: [{ __typename: 'Device', clientId: 42 }, { __typename: 'Device', clientId: online(1) }] },
    );

    expect(response.data!._entities).toEqual([null, { online: true }]);
    expect(errorsByPath(response.errors).get('_entities.0')?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(batchCalls().flatMap((call) => call.clientIds)).toEqual([online(1)]);
  });

  it('refuses a federation representation of a type this subgraph has no entity of with 400 BAD_USER_INPUT, not an internal error', async () => {
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }';
    for (const representation of [{ __typename: 'Nope', clientId: online(1) }, { clientId: online(1) }]) {
      const response = await postGraphQL(graph.url, query, { r: [{ __typename: 'Device', clientId: online(1) }, representation] });
      expect(response.status).toBe(400);
      expect(response.errors).toEqual([
        expect.objectContaining({ message: expect.stringMatching(/^_entities was asked for a representation of type ("Nope"|undefined); this subgraph resolves only/), extensions: { code: 'BAD_USER_INPUT' } }),
      ]);
    }
    expect(graph.local!.emulator.calls).toHaveLength(0);
  });

  it('answers the GraphiQL example operation for the demo devices (schema/operations/fleet-dashboard.graphql)', async () => {
    const response = await postGraphQL(graph.url, FleetDashboardDocument);
    // No GID_demo devices are connected in this test: every status is false, none is an error.
    expect(response.errors).toBeUndefined();
    expect(response.data!.sensor).toEqual({ clientId: 'GID_demo@@@device-3', deviceId: 'device-3', online: false, exactlyNow: false });
  });

  it('answers the same device asked exactly and batched in one request', async () => {
    const response = await postGraphQL(graph.url, DeviceOnlineDocument, { clientId: online(3), exact: true });
    expect(response.data).toEqual({ device: { clientId: online(3), online: true } });
  });
});
