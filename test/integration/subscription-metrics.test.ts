import { createClient as createSseClient } from 'graphql-sse';
import type { Client as WsClient } from 'graphql-ws';
import { graphqlWsClient, subscribe, type TestSubscription } from '../support/graphql-ws-client';
import { startTestGraph, type TestGraph } from '../support/test-graph';
import { waitFor } from '../support/wait-for';
import { startStandInOpenApi, type StandInOpenApi } from './upstream/stand-in-openapi';

const INSTANCE_ID = 'post-cn-standin01';
const WATCH = 'subscription Watch($ids: [ID!]!) { presenceChanged(clientIds: $ids) { device { clientId } online initial } }';

/**
 * The operator's series for subscriptions (docs/operations.md), read from /metrics as Prometheus
 * scrapes them: open WebSocket connections and SSE streams, active subscriptions, distinct watched
 * devices, and the calls of the poller that serves them on PRESENCE_SOURCE=alibaba.
 */
describe('subscription series on /metrics', () => {
  let standIn: StandInOpenApi;
  let graph: TestGraph;
  const id = (i: number) => `GID_fleet@@@unit-${i}`;

  beforeAll(async () => {
    standIn = await startStandInOpenApi(INSTANCE_ID);
    for (let i = 0; i < 4; i++) standIn.online.set(id(i), i % 2 === 0);
    graph = await startTestGraph({
      PRESENCE_SOURCE: 'alibaba',
      ALLOW_ANONYMOUS: 'true',
      ONSMQTT_ENDPOINT: standIn.endpoint,
      MQTT_INSTANCE_ID: INSTANCE_ID,
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIstandinkey01',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'stand-in-secret-value-7f3a9c',
    });
  });
  afterAll(async () => {
    await graph?.stop();
    await standIn?.close();
  });

  /** One sample of a series without labels, or of the one label set given, as /metrics shows it. */
  const sample = async (series: string): Promise<number | undefined> => {
    const text = await (await fetch(graph.url.replace('/graphql', '/metrics'))).text();
    const escaped = series.replace(/[{}"=]/g, (c) => `\\${c}`);
    const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
    return match ? Number(match[1]) : undefined;
  };
  const gauges = async () => ({
    webSocketConnections: await sample('presence_websocket_connections'),
    sseStreams: await sample('presence_sse_streams'),
    subscriptions: await sample('presence_subscriptions'),
    watchedDevices: await sample('presence_watched_devices'),
  });

  it('counts connections, streams, subscriptions and distinct watched devices while they are open, and none after', async () => {
    expect(await gauges()).toEqual({ webSocketConnections: 0, sseStreams: 0, subscriptions: 0, watchedDevices: 0 });

    const ws = graphqlWsClient(graph.url);
    const sse = createSseClient({ url: `${graph.url}/stream`, retryAttempts: 0 });
    const open: Array<TestSubscription<unknown>> = [
      subscribe(ws, WATCH, { ids: [id(0), id(1)] }),
      subscribe(ws, WATCH, { ids: [id(1), id(2)] }),
      subscribe(sse as unknown as WsClient, WATCH, { ids: [id(2), id(3)] }),
    ];
    try {
      // Each subscription's first events: it is watching, its devices counted.
      for (const subscription of open) {
        await subscription.next('the first status');
        await subscription.next('the second first status');
      }
      // One socket with two subscriptions, one stream with one; devices 0-3 once each however often watched.
      expect(await gauges()).toEqual({ webSocketConnections: 1, sseStreams: 1, subscriptions: 3, watchedDevices: 4 });
      // The first statuses came from the poller's catch-up calls, counted as poller calls.
      expect(await sample('presence_poller_calls_total{outcome="ok"}')).toBeGreaterThanOrEqual(1);
    } finally {
      for (const subscription of open) subscription.unsubscribe();
    }
    await waitFor('the subscriptions to end', async () => (await sample('presence_subscriptions')) === 0);
    expect(await sample('presence_watched_devices')).toBe(0);
    await waitFor('the stream to close', async () => (await sample('presence_sse_streams')) === 0);
    await ws.dispose();
    await waitFor('the socket to close', async () => (await sample('presence_websocket_connections')) === 0);
  });

  it('counts a failed poll by its upstream code, and the poll that then answers as ok', async () => {
    const okBefore = (await sample('presence_poller_calls_total{outcome="ok"}')) ?? 0;
    standIn.fault = 'InternalError';
    const ws = graphqlWsClient(graph.url);
    // A device nobody watched yet: the poller asks about it at once, and the stand-in fails that call.
    const subscription = subscribe(ws, WATCH, { ids: [id(3)] });
    try {
      await waitFor('a failed poll', async () => ((await sample('presence_poller_calls_total{outcome="InternalError"}')) ?? 0) >= 1);
      standIn.fault = undefined;
      await subscription.next('the first status, from the next round');
      expect(await sample('presence_poller_calls_total{outcome="ok"}')).toBeGreaterThan(okBefore);
    } finally {
      standIn.fault = undefined;
      subscription.unsubscribe();
      await ws.dispose();
    }
  });
});
