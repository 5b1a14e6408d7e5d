import mqtt from 'mqtt';
import { LOCAL_DEFAULTS } from '../../../src/config';
import { postGraphQL } from '../../support/graphql-client';
import { bearer, dashboardKey, startApiKeyGraph } from '../../support/secured-graph';
import { SessionAction, startTestGraph, type TestGraph } from '../../support/test-graph';
import { waitFor } from '../../support/wait-for';

// LOCAL_BATCH_LAG_MS is long here, so an answer that changed with the broker at once can only have
// come from the notices: the batch action still reports the old status for 5 s.
const BATCH_LAG_MS = 5_000;

interface Presence {
  online: boolean;
  source: string;
  checkedAt: string;
}

/**
 * The local default (status notices on, delivered in-process): the embedded broker's connect,
 * disconnect and tcpclean decide `online` with no upstream call, lists and counts of a group come
 * from them, and what the notices save is counted in calls the emulator never received.
 */
describe('status notices on the local instance', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startTestGraph({ LOCAL_BATCH_LAG_MS: String(BATCH_LAG_MS) });
  });
  afterAll(async () => {
    await graph?.stop();
  });

  const presenceOf = async (clientIds: string[]): Promise<Presence[]> => {
    const response = await postGraphQL<{ devices: Array<{ presence: Presence }> }>(
      graph.url,
      'query($ids: [ID!]!) { devices(clientIds: $ids) { presence { online source checkedAt } } }',
      { ids: clientIds },
    );
    expect(response.errors).toBeUndefined();
    return response.data!.devices.map((device) => device.presence);
  };
  const batchCallsFor = (clientId: string) => graph.upstreamCalls(SessionAction.Batch).filter((call) => call.clientIds.includes(clientId)).length;

  it('answers a connected device online from the notices at once, with the notice time and no upstream call', async () => {
    const clientId = 'GID_notices@@@truck-1';
    const device = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId, reconnectPeriod: 0 });
    const connectedAt = Date.now();
    const presence = await waitFor('the connect notice in the table', async () => {
      const [answer] = await presenceOf([clientId]);
      return answer.source === 'EVENTS' ? answer : undefined;
    });
    expect(presence!.online).toBe(true);
    expect(Math.abs(Date.parse(presence!.checkedAt) - connectedAt)).toBeLessThan(1_000);
    expect(batchCallsFor(clientId)).toBe(0);

    await device.endAsync();
    await waitFor('the disconnect notice in the table', async () => (await presenceOf([clientId]))[0].online === false);
    // The batch action would still say online for BATCH_LAG_MS: this answer is the notices'.
    expect((await presenceOf([clientId]))[0]).toMatchObject({ online: false, source: 'EVENTS' });
    expect(batchCallsFor(clientId)).toBe(0);
  });

  it('asks the batch action once about a device the notices never mentioned, then answers it from the table', async () => {
    const clientId = 'GID_notices@@@never-seen';
    expect((await presenceOf([clientId]))[0]).toMatchObject({ online: false, source: 'BATCH' });
    await waitFor('the batch answer seeded into the table', async () => (await presenceOf([clientId]))[0].source === 'EVENTS');
    for (let i = 0; i < 5; i++) await presenceOf([clientId]);
    expect(batchCallsFor(clientId)).toBe(1);
  });

  it('takes a device that drops without DISCONNECT offline (tcpclean alone)', async () => {
    const clientId = 'GID_notices@@@truck-2';
    const device = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId, reconnectPeriod: 0 });
    await waitFor('online', async () => (await presenceOf([clientId]))[0].online);
    device.stream.destroy();
    await waitFor('offline after the tcpclean', async () => (await presenceOf([clientId]))[0].online === false);
    device.end(true);
  });

  it('keeps a device online through a takeover (a second connection with the same Client ID)', async () => {
    const clientId = 'GID_notices@@@truck-3';
    const first = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId, reconnectPeriod: 0 });
    const second = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId, reconnectPeriod: 0 });
    await waitFor('the old connection closed by the broker', () => first.disconnected || !first.connected);
    expect((await presenceOf([clientId]))[0]).toMatchObject({ online: true, source: 'EVENTS' });
    await second.endAsync();
    first.end(true);
    await waitFor('offline once the second connection leaves', async () => (await presenceOf([clientId]))[0].online === false);
  });

  it('lists and counts the online devices of a group, a page at a time, with no upstream call', async () => {
    const ids = ['GID_listed@@@a', 'GID_listed@@@b', 'GID_listed@@@c'];
    const devices = await Promise.all(ids.map((clientId) => mqtt.connectAsync(graph.local!.mqttUrl, { clientId, reconnectPeriod: 0 })));
    const summary = async () =>
      (await postGraphQL<{ groupPresence: { online: number; known: number; complete: boolean } }>(graph.url, '{ groupPresence(groupId: "GID_listed") { online known complete } }')).data!
        .groupPresence;
    await waitFor('three online', async () => (await summary()).online === 3);
    expect(await summary()).toEqual({ online: 3, known: 3, complete: true });

    const page = async (after: string | null) => {
      const response = await postGraphQL<{
        onlineDevices: { totalCount: number; edges: Array<{ cursor: string; node: { clientId: string; presence: { online: boolean; source: string } } }>; pageInfo: { hasNextPage: boolean; endCursor: string } };
      }>(
        graph.url,
        'query($after: String) { onlineDevices(groupId: "GID_listed", first: 2, after: $after) { totalCount edges { cursor node { clientId presence { online source } } } pageInfo { hasNextPage endCursor } } }',
        { after },
      );
      expect(response.errors).toBeUndefined();
      return response.data!.onlineDevices;
    };
    const first = await page(null);
    expect(first).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
    const second = await page(first.pageInfo.endCursor);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect([...first.edges, ...second.edges].map((edge) => edge.node.clientId).sort()).toEqual(ids);
    // Each listed device carries the table's status: no lookup of its own.
    expect([...first.edges, ...second.edges].map((edge) => edge.node.presence)).toEqual(ids.map(() => ({ online: true, source: 'EVENTS' })));

    await devices[0].endAsync();
    await waitFor('two online', async () => (await summary()).online === 2);
    expect(await summary()).toMatchObject({ online: 2, known: 3 });
    await Promise.all(devices.slice(1).map((device) => device.endAsync()));
    for (const clientId of ids) expect(batchCallsFor(clientId)).toBe(0);
  });

  it('counts the notices it applied in /metrics', async () => {
    const metrics = await (await fetch(graph.url.replace('/graphql', '/metrics'))).text();
    expect(metrics).toMatch(/presence_status_notices_total\{event="connect",outcome="applied"\} [1-9]/);
    expect(metrics).toMatch(/presence_lookups_total\{result="events"\} [1-9]/);
  });
});

describe('status notices and the caller\'s scope', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startApiKeyGraph();
  });
  afterAll(async () => {
    await graph?.stop();
  });

  it('refuses to list or count a group outside the caller\'s scope with FORBIDDEN', async () => {
    for (const query of ['{ groupPresence(groupId: "GID_other") { online } }', '{ onlineDevices(groupId: "GID_other") { totalCount } }']) {
      const response = await postGraphQL(graph.url, query, {}, bearer(dashboardKey.key));
      expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    }
    const allowed = await postGraphQL(graph.url, '{ groupPresence(groupId: "GID_fleet-eu", instanceId: "' + LOCAL_DEFAULTS.instanceId + '") { known } }', {}, bearer(dashboardKey.key));
    expect(allowed.errors).toBeUndefined();
  });
});

describe('status notices turned off', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startTestGraph({ STATUS_NOTICES: 'off' });
  });
  afterAll(async () => {
    await graph?.stop();
  });

  it('refuses lists and counts with STATUS_NOTICES_OFF and no upstream call, and answers `online` from the batch action', async () => {
    const response = await postGraphQL(graph.url, '{ groupPresence(groupId: "GID_fleet") { online } }');
    expect(response.errors).toEqual([expect.objectContaining({ extensions: { code: 'STATUS_NOTICES_OFF' }, message: expect.stringContaining('STATUS_NOTICES') })]);
    expect(graph.upstreamCalls(SessionAction.Batch)).toEqual([]);
    const device = await postGraphQL<{ device: { presence: { source: string } } }>(graph.url, '{ device(clientId: "GID_fleet@@@x") { presence { source } } }');
    expect(device.data!.device.presence.source).toBe('BATCH');
  });
});
