import { startSimulatedDevices, type SimulatedDevices } from '../../../src/local/device-simulator';
import { errorsByPath, postGraphQL } from '../../support/graphql-client';
import { bearer, dashboardKey, startApiKeyGraph } from '../../support/secured-graph';
import { BATCH_PATH_ONLY } from '../../support/test-graph';
import type { TestGraph } from '../../support/test-graph';

/**
 * Scopes after Alibaba's RAM model: the dashboard key may ask about the local instance's
 * `GID_fleet-*` devices only. A device outside gets FORBIDDEN at its own path and is never sent
 * upstream (no bill, no timing hint about its status); the rest of the request still answers.
 */
describe('caller scope', () => {
  let graph: TestGraph;
  let fleet: SimulatedDevices;
  let secret: SimulatedDevices;

  beforeAll(async () => {
    graph = await startApiKeyGraph(BATCH_PATH_ONLY);
    fleet = await startSimulatedDevices({ url: graph.local!.mqttUrl, count: 2, groupId: 'GID_fleet-eu', prefix: 'truck-' });
    secret = await startSimulatedDevices({ url: graph.local!.mqttUrl, count: 1, groupId: 'GID_payroll', prefix: 'meter-' });
  });
  afterAll(async () => {
    await fleet?.stop();
    await secret?.stop();
    await graph?.stop();
  });
  beforeEach(() => graph.local!.emulator.resetCalls());

  const sentUpstream = () => graph.local!.emulator.calls.flatMap((call) => call.clientIds);

  it('forbids an out-of-scope device at its own path, answers the others, and never sends it upstream', async () => {
    const [inScope, outOfScope] = [fleet.clientIds[0], secret.clientIds[0]];
    const response = await postGraphQL<{ devices: Array<{ clientId: string; groupId: string; online: boolean | null }> }>(
      graph.url,
      'query Q($ids: [ID!]!) { devices(clientIds: $ids) { clientId groupId online } }',
      { ids: [inScope, outOfScope] },
      bearer(dashboardKey.key),
    );

    expect(response.status).toBe(200);
    // groupId and deviceId are read from the Client ID the caller sent: they tell nothing new.
    expect(response.data!.devices).toEqual([
      { clientId: inScope, groupId: 'GID_fleet-eu', online: true },
      { clientId: outOfScope, groupId: 'GID_payroll', online: null },
    ]);
    const forbidden = errorsByPath(response.errors).get('devices.1.online');
    expect(forbidden?.extensions).toEqual({ code: 'FORBIDDEN' });
    expect(response.errors).toHaveLength(1);
    expect(sentUpstream()).toEqual([inScope]);
  });

  it('forbids a device of another instance even within an allowed Group ID', async () => {
    const response = await postGraphQL(graph.url, `{ device(clientId: "${fleet.clientIds[0]}", instanceId: "mqtt-cn-other") { online } }`, undefined, bearer(dashboardKey.key));

    expect(errorsByPath(response.errors).get('device.online')?.extensions?.code).toBe('FORBIDDEN');
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('forbids exact lookups out of scope, which would otherwise cost one call each', async () => {
    const response = await postGraphQL(graph.url, `{ device(clientId: "${secret.clientIds[0]}") { online(exact: true) presence { online } } }`, undefined, bearer(dashboardKey.key));

    expect(response.data).toEqual({ device: { online: null, presence: null } });
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('applies the same scope to federation _entities (__resolveReference)', async () => {
    const response = await postGraphQL<{ _entities: Array<{ online: boolean | null }> }>(
      graph.url,
      'query E($r: [_Any!]!) { _entities(representations: $r) { ... on Device { online } } }',
      { r: [{ __typename: 'Device', clientId: secret.clientIds[0] }, { __typename: 'Device', clientId: fleet.clientIds[1] }] },
      bearer(dashboardKey.key),
    );

    expect(response.data).toEqual({ _entities: [{ online: null }, { online: true }] });
    expect(errorsByPath(response.errors).get('_entities.0.online')?.extensions?.code).toBe('FORBIDDEN');
    expect(sentUpstream()).toEqual([fleet.clientIds[1]]);
  });
});
