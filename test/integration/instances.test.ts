import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulatedDevices, type SimulatedDevices } from '../../src/local/device-simulator';
import type { LocalInstance } from '../../src/local/local-instance';
import { deviceGlobalId } from '../../src/graphql/device-id';
import { errorsByPath, postGraphQL } from '../support/graphql-client';
import { graphqlWsClient, subscribe } from '../support/graphql-ws-client';
import { accountEntries, instancesFileEnv, startTestInstance } from '../support/instances-file';
import { mostInAnyWindow } from '../support/rolling-window';
import { SessionAction, startTestGraph, type TestGraph } from '../support/test-graph';
import { waitFor } from '../support/wait-for';

/**
 * INSTANCES_FILE with two accounts, each with one instance at its own endpoint: two local instances
 * started here, each its own emulator with its own AccessKey, instance ID and call limit, stand for
 * two regions of two Alibaba Cloud accounts. The emulator refuses another instance's ID
 * (InstancePermissionCheckFailed) and a call signed with another key (SignatureDoesNotMatch), so a
 * lookup routed or signed wrongly shows as an error, never as a status.
 *
 * Account alpha's emulator admits 3 batch calls per second while the catalogue lets the service
 * make 10: alpha gets SystemOverFlow, as an account shared with another consumer would. Beta's
 * emulator and catalogue agree on 10.
 */
const ALPHA = { instanceId: 'post-cn-alpha01', accessKeyId: 'LTAIalphakey0001', secret: 'alpha-secret-4f1c', emulatorQps: 3 };
const BETA = { instanceId: 'post-cn-beta0001', accessKeyId: 'LTAIbetakey00001', secret: 'beta-secret-9a2e', emulatorQps: 10 };
const ONLINE = 20;

type DeviceAnswer = { instanceId: string; clientId: string; online: boolean | null } | null;

describe('several instances in two accounts (INSTANCES_FILE)', () => {
  let alpha: LocalInstance;
  let beta: LocalInstance;
  let devices: SimulatedDevices[] = [];
  let directory: string;
  let graph: TestGraph;

  const startInstance = async (instance: typeof ALPHA) => {
    const local = await startTestInstance(instance, { LOCAL_BATCH_QPS: String(instance.emulatorQps) });
    // Devices `on-1` … `on-20` connected on this instance; `off-N` never are.
    devices.push(await startSimulatedDevices({ url: local.mqttUrl, count: ONLINE, groupId: 'GID_fleet', prefix: 'on-' }));
    return local;
  };
  const id = (n: number) => (n <= ONLINE ? `GID_fleet@@@on-${n}` : `GID_fleet@@@off-${n}`);
  const batchCalls = (local: LocalInstance) => local.emulator.calls.filter((call) => call.action === SessionAction.Batch);
  const idle = async () => {
    const last = Math.max(alpha.emulator.calls.at(-1)?.at ?? 0, beta.emulator.calls.at(-1)?.at ?? 0);
    await waitFor('earlier calls to leave both accounts\' rolling second', () => Date.now() - last >= 1100, 5000);
    alpha.emulator.resetCalls();
    beta.emulator.resetCalls();
  };

  beforeAll(async () => {
    [alpha, beta] = [await startInstance(ALPHA), await startInstance(BETA)];
    directory = mkdtempSync(join(tmpdir(), 'instances-'));
    const accounts = { alpha: { ...ALPHA, fields: { batchQps: 10 } }, beta: { ...BETA, fields: { batchQps: 10 } } };
    const catalogue = {
      accounts: accountEntries(accounts),
      instances: {
        [ALPHA.instanceId]: { account: 'alpha', regionId: 'cn-hangzhou', endpoint: alpha.endpoint },
        [BETA.instanceId]: { account: 'beta', regionId: 'ap-southeast-1', endpoint: beta.endpoint },
      },
    };
    graph = await startTestGraph({
      ...instancesFileEnv(directory, catalogue, accounts),
      CALLER_LOOKUPS_PER_SECOND: '0',
      MAX_IDS_PER_REQUEST: '1000',
      MAX_QUERY_COST: '100000',
    });
  });
  afterAll(async () => {
    await graph?.stop();
    for (const simulated of devices) await simulated.stop();
    await alpha?.stop();
    await beta?.stop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });
  beforeEach(idle);

  it('resolves nodes(ids:) mixing two instances in Σ ⌈distinct per instance / 10⌉ calls, each at its own endpoint signed with its own account', async () => {
    // Alpha: 23 distinct (3 calls), beta: 7 distinct (1 call); 5 duplicates change nothing.
    const keys = [
      ...Array.from({ length: 23 }, (_, i) => ({ instanceId: ALPHA.instanceId, clientId: id(i + 10) })),
      ...Array.from({ length: 7 }, (_, i) => ({ instanceId: BETA.instanceId, clientId: id(i + 17) })),
    ];
    const asked = [...keys, ...keys.slice(0, 3), ...keys.slice(-2)];
    const response = await postGraphQL<{ nodes: DeviceAnswer[] }>(
      graph.url,
      'query($ids: [ID!]!) { nodes(ids: $ids) { ... on Device { instanceId clientId online } } }',
      { ids: asked.map(deviceGlobalId) },
    );

    expect(response.errors).toBeUndefined();
    expect(response.data!.nodes).toEqual(asked.map((key) => ({ ...key, online: key.clientId.includes('@@@on-') })));
    expect(batchCalls(alpha)).toHaveLength(3);
    expect(batchCalls(beta)).toHaveLength(1);
    for (const [local, instanceId] of [[alpha, ALPHA.instanceId], [beta, BETA.instanceId]] as const) {
      for (const call of batchCalls(local)) expect(call).toMatchObject({ instanceId, code: 'ok' });
    }
  });

  it('resolves _entities with the instance key across both instances in one request, at the same cost', async () => {
    const representations = [
      ...Array.from({ length: 12 }, (_, i) => ({ __typename: 'Device', instanceId: ALPHA.instanceId, clientId: id(i + 1) })),
      ...Array.from({ length: 10 }, (_, i) => ({ __typename: 'Device', instanceId: BETA.instanceId, clientId: id(i + 15) })),
    ];
    const response = await postGraphQL<{ _entities: DeviceAnswer[] }>(
      graph.url,
      'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Device { instanceId clientId online } } }',
      { representations },
    );

    expect(response.errors).toBeUndefined();
    expect(response.data!._entities).toEqual(representations.map(({ instanceId, clientId }) => ({ instanceId, clientId, online: clientId.includes('@@@on-') })));
    expect(batchCalls(alpha).map((call) => call.clientIds.length).sort()).toEqual([10, 2]);
    expect(batchCalls(beta).map((call) => call.clientIds.length)).toEqual([10]);
  });

  it('answers an instance the catalogue does not name with BAD_USER_INPUT at its own path and no call, the others as usual', async () => {
    const response = await postGraphQL<{ known: DeviceAnswer[]; unknown: DeviceAnswer[] }>(
      graph.url,
      `{ known: devices(clientIds: ["${id(1)}"], instanceId: "${BETA.instanceId}") { online }
         unknown: devices(clientIds: ["${id(1)}"], instanceId: "post-cn-elsewhere") { online } }`,
    );

    expect(response.data).toEqual({ known: [{ online: true }], unknown: [{ online: null }] });
    expect(errorsByPath(response.errors).get('unknown.0.online')).toMatchObject({
      message: expect.stringContaining('"post-cn-elsewhere" is not in INSTANCES_FILE'),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(alpha.emulator.calls).toHaveLength(0);
    expect(beta.emulator.calls.map((call) => call.instanceId)).toEqual([BETA.instanceId]);
  });

  it('keeps the accounts\' budgets apart: alpha throttled and slowed down does not slow beta, which uses all of its own', async () => {
    // 100 fresh alpha IDs: 10 calls granted by alpha's budget of 10, but its emulator admits 3.
    const alphaKeys = Array.from({ length: 100 }, (_, i) => ({ instanceId: ALPHA.instanceId, clientId: id(1000 + i) }));
    const alphaAnswer = postGraphQL<{ nodes: DeviceAnswer[] }>(graph.url, 'query($ids: [ID!]!) { nodes(ids: $ids) { ... on Device { online } } }', {
      ids: alphaKeys.map(deviceGlobalId),
    });
    await waitFor('alpha to be throttled', () => batchCalls(alpha).some((call) => call.code === 'SystemOverFlow'), 5000);

    // Beta's whole budget at once, while alpha is throttled and slowed: 10 calls of 10 IDs.
    const betaKeys = Array.from({ length: 100 }, (_, i) => ({ instanceId: BETA.instanceId, clientId: id(2000 + i) }));
    const startedAt = Date.now();
    const betaAnswer = await postGraphQL<{ nodes: DeviceAnswer[] }>(graph.url, 'query($ids: [ID!]!) { nodes(ids: $ids) { ... on Device { online } } }', {
      ids: betaKeys.map(deviceGlobalId),
    });
    const betaMs = Date.now() - startedAt;

    expect(betaAnswer.errors).toBeUndefined();
    expect(betaAnswer.data!.nodes).toEqual(betaKeys.map(() => ({ online: false })));
    // Had beta shared alpha's budget or its slow-down (half of 10), 5 of its calls would wait a second.
    expect(betaMs).toBeLessThan(700);
    expect(batchCalls(beta).map((call) => call.code)).toEqual(Array(10).fill('ok'));

    // Alpha answers in the end, each ID right or throttled: never wrong, and never over its budget of 10.
    const alphaResponse = await alphaAnswer;
    const errors = errorsByPath(alphaResponse.errors);
    alphaResponse.data!.nodes.forEach((node, i) => {
      if (node?.online === null) expect(errors.get(`nodes.${i}.online`)?.extensions?.code).toBe('UPSTREAM_THROTTLED');
      else expect(node).toEqual({ online: false });
    });
    expect(mostInAnyWindow(batchCalls(alpha).map((call) => call.at), 1000)).toBeLessThanOrEqual(10);
  });

  it('reports each account on /readyz and names each route in the start line, never a secret', async () => {
    const ready = (await (await fetch(graph.url.replace('/graphql', '/readyz'))).json()) as { ready: Record<string, string> };
    expect(ready.ready).toMatchObject({ 'credentials alpha': expect.stringContaining('env'), 'credentials beta': expect.stringContaining('env') });
    const start = graph.logs.map((line) => JSON.parse(line) as { routes?: unknown[] }).find((line) => line.routes);
    expect(start?.routes).toEqual([
      expect.objectContaining({ account: 'alpha', endpoint: alpha.endpoint, instances: [ALPHA.instanceId] }),
      expect.objectContaining({ account: 'beta', endpoint: beta.endpoint, instances: [BETA.instanceId] }),
    ]);
    expect(graph.logs.join('\n')).not.toContain(ALPHA.secret);
    expect(graph.logs.join('\n')).not.toContain(BETA.secret);
  });

  it('refuses a presenceChanged that gives both clientIds and ids, neither, or instanceId with ids, before anything is watched', async () => {
    const client = graphqlWsClient(graph.url);
    const ids = [deviceGlobalId({ instanceId: ALPHA.instanceId, clientId: id(1) })];
    const refusals = [
      ['subscription($ids: [ID!]!) { presenceChanged(ids: $ids, clientIds: ["GID_fleet@@@on-1"]) { online } }', /Give either clientIds .* or ids/],
      ['subscription { presenceChanged { online } }', /Give either clientIds .* or ids/],
      [`subscription($ids: [ID!]!) { presenceChanged(ids: $ids, instanceId: "${BETA.instanceId}") { online } }`, /instanceId goes with clientIds/],
    ] as const;
    for (const [query, message] of refusals) {
      const subscription = subscribe<unknown, { ids: string[] }>(client, query, { ids });
      const refusal = await subscription.next('the refusal', 10_000);
      expect(refusal).toMatchObject({ errors: [{ message: expect.stringMatching(message), extensions: { code: 'BAD_USER_INPUT' } }] });
      expect(await subscription.ended(10_000)).toEqual({ completed: true });
    }
    await client.dispose();
    expect(alpha.emulator.calls).toHaveLength(0);
  });
});
