import { createClient, type Client as SseClient } from 'graphql-sse';
import type { Client as WsClient } from 'graphql-ws';
import { GraphQLClient } from 'graphql-request';
import mqtt from 'mqtt';
import { graphqlWsClient, subscribe, type TestSubscription } from '../support/graphql-ws-client';
import { bearer, dashboardKey, opsKey, startApiKeyGraph } from '../support/secured-graph';
import { startTestGraph, type TestGraph } from '../support/test-graph';
import { waitFor } from '../support/wait-for';

interface Change {
  presenceChanged: { device: { clientId: string }; online: boolean; initial: boolean };
}

const WATCH = `subscription Watch($ids: [ID!]!) {
  presenceChanged(clientIds: $ids) { device { clientId } online initial }
}`;

/** graphql-sse's own client, distinct connections mode (its default), no retries: as a Node app makes it. */
function sseClient(url: string, headers?: Record<string, string>): SseClient {
  return createClient({ url, headers, retryAttempts: 0 });
}

/** The test queue of graphql-ws-client.ts: graphql-sse's `subscribe(payload, sink)` has the same shape. */
function watch(client: SseClient, ids: string[], query = WATCH): TestSubscription<Change> {
  return subscribe<Change, Record<string, unknown>>(client as unknown as WsClient, query, { ids });
}

const changeOf = async (subscription: TestSubscription<Change>, what: string, timeoutMs?: number) => {
  const result = await subscription.next(what, timeoutMs);
  expect(result.errors).toBeUndefined();
  return result.data!.presenceChanged;
};

/** A refused operation: one result with the errors, then the stream completes. */
const refusalOf = async (subscription: TestSubscription<Change>) => {
  const result = await subscription.next('the refusal');
  expect(result.data ?? null).toBeNull();
  expect(await subscription.ended()).toEqual({ completed: true });
  return result.errors;
};

describe('subscriptions over Server-Sent Events (graphql-sse) on the anonymous local instance', () => {
  let graph: TestGraph;
  let streamUrl: string;
  beforeAll(async () => {
    graph = await startTestGraph();
    streamUrl = `${graph.url}/stream`;
  });
  afterAll(async () => {
    await graph?.stop();
  });

  it('sends the current status, then a real MQTT client going online and offline, at /graphql/stream', async () => {
    const client = sseClient(streamUrl);
    const clientId = 'GID_sse@@@one';
    const subscription = watch(client, [clientId]);
    try {
      expect(await changeOf(subscription, 'the current status')).toEqual({ device: { clientId }, online: false, initial: true });
      const device = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId, reconnectPeriod: 0 });
      expect(await changeOf(subscription, 'the connect', 2000)).toEqual({ device: { clientId }, online: true, initial: false });
      await device.endAsync();
      expect(await changeOf(subscription, 'the disconnect', 2000)).toEqual({ device: { clientId }, online: false, initial: false });
    } finally {
      subscription.unsubscribe();
      client.dispose();
    }
  });

  it('serves the same stream at /graphql to a client that asks for text/event-stream (a gateway\'s default subscription transport)', async () => {
    const client = sseClient(graph.url);
    const subscription = watch(client, ['GID_sse@@@two']);
    try {
      expect(await changeOf(subscription, 'the current status')).toEqual({ device: { clientId: 'GID_sse@@@two' }, online: false, initial: true });
    } finally {
      subscription.unsubscribe();
      client.dispose();
    }
  });

  it('refuses a malformed Client ID with BAD_USER_INPUT in the stream, as over WebSocket', async () => {
    const client = sseClient(streamUrl);
    try {
      const errors = await refusalOf(watch(client, ['no-group-here']));
      expect(errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
    } finally {
      client.dispose();
    }
  });

  it('answers a query over the stream too, and still answers plain JSON at /graphql (urql\'s Accept lists text/event-stream after JSON)', async () => {
    const client = sseClient(streamUrl);
    try {
      const query = subscribe<{ device: { clientId: string; online: boolean } }, Record<string, unknown>>(
        client as unknown as WsClient,
        'query($id: ID!) { device(clientId: $id) { clientId online } }',
        { id: 'GID_sse@@@q' },
      );
      expect((await query.next('the answer')).data).toEqual({ device: { clientId: 'GID_sse@@@q', online: false } });
    } finally {
      client.dispose();
    }
    const response = await fetch(graph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed' },
      body: JSON.stringify({ query: '{ device(clientId: "GID_sse@@@q") { online } }' }),
    });
    expect(response.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
  });

  it('answers graphql-request\'s defaults, POST and GET, with no configuration', async () => {
    const query = 'query One($id: ID!) { device(clientId: $id) { clientId online } }';
    for (const method of ['POST', 'GET'] as const) {
      const client = new GraphQLClient(graph.url, { method });
      expect(await client.request(query, { id: 'GID_sse@@@gr' })).toEqual({ device: { clientId: 'GID_sse@@@gr', online: false } });
    }
  });
});

describe('event streams with API keys: the same auth, scopes and limits as WebSocket', () => {
  let graph: TestGraph;
  let streamUrl: string;
  beforeAll(async () => {
    graph = await startApiKeyGraph({ MAX_SUBSCRIPTIONS_PER_CONNECTION: '1', MAX_CONNECTIONS_PER_CALLER: '2', MAX_QUERY_BYTES: '1024', MAX_WATCHED_DEVICES_PER_CALLER: '3' });
    streamUrl = `${graph.url}/stream`;
  });
  afterAll(async () => {
    await graph?.stop();
  });

  it('refuses a stream without credentials with 401, before any operation runs', async () => {
    const client = sseClient(streamUrl);
    try {
      const end = await watch(client, ['GID_fleet-eu@@@sse-1']).ended();
      expect(end).toMatchObject({ reason: expect.stringContaining('401') });
    } finally {
      client.dispose();
    }
  });

  it('refuses an EventSource-style GET without credentials (401), and serves one with X-API-Key, which forces a preflight', async () => {
    const search = new URLSearchParams({ query: WATCH, variables: JSON.stringify({ ids: ['GID_fleet-eu@@@sse-get'] }) });
    expect((await fetch(`${streamUrl}?${search}`, { headers: { accept: 'text/event-stream' } })).status).toBe(401);
    const abort = new AbortController();
    const response = await fetch(`${streamUrl}?${search}`, { headers: { accept: 'text/event-stream', 'x-api-key': dashboardKey.key }, signal: abort.signal });
    try {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = response.body!.getReader();
      let text = '';
      // The stream opens with a comment (`:`), then the first event.
      while (!text.includes('event: next')  || !text.endsWith('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
      expect(text).toMatch(/event: next\ndata: .*"initial":true/);
    } finally {
      abort.abort();
    }
  });

  it('refuses an out-of-scope Client ID with FORBIDDEN and serves the caller\'s own devices', async () => {
    const client = sseClient(streamUrl, bearer(dashboardKey.key));
    try {
      const errors = await refusalOf(watch(client, ['GID_other@@@sse-2']));
      expect(errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
      const own = watch(client, ['GID_fleet-eu@@@sse-2']);
      expect(await changeOf(own, 'the own device')).toMatchObject({ initial: true });
      own.unsubscribe();
    } finally {
      client.dispose();
    }
  });

  it('refuses a query text longer than MAX_QUERY_BYTES with BAD_REQUEST, before parsing it', async () => {
    const client = sseClient(streamUrl, bearer(dashboardKey.key));
    try {
      const errors = await refusalOf(watch(client, ['GID_fleet-eu@@@sse-3'], `${WATCH} # ${'x'.repeat(1024)}`));
      expect(errors).toEqual([expect.objectContaining({ message: expect.stringContaining('MAX_QUERY_BYTES'), extensions: { code: 'BAD_REQUEST' } })]);
    } finally {
      client.dispose();
    }
  });

  it('holds a caller to MAX_CONNECTIONS_PER_CALLER x MAX_SUBSCRIPTIONS_PER_CONNECTION streams (429), counts callers apart, and frees a slot when a stream ends', async () => {
    const dashboard = sseClient(streamUrl, bearer(dashboardKey.key));
    const ops = sseClient(streamUrl, bearer(opsKey.key));
    const held = [watch(dashboard, ['GID_fleet-eu@@@cap-1']), watch(dashboard, ['GID_fleet-eu@@@cap-2'])];
    try {
      for (const [i, stream] of held.entries()) expect(await changeOf(stream, `stream ${i + 1}`)).toMatchObject({ initial: true });
      expect(await watch(dashboard, ['GID_fleet-eu@@@cap-3']).ended()).toMatchObject({ reason: expect.stringContaining('429') });
      const other = watch(ops, ['GID_fleet-eu@@@cap-4']);
      expect(await changeOf(other, 'another caller\'s stream')).toMatchObject({ initial: true });
      other.unsubscribe();

      held.shift()!.unsubscribe();
      // The server frees the slot when it sees the stream close: each attempt is a new stream until then.
      await waitFor('a stream once one ended', async () => {
        const retry = watch(dashboard, ['GID_fleet-eu@@@cap-3']);
        try {
          return (await retry.next('a status')).data?.presenceChanged.initial === true;
        } finally {
          retry.unsubscribe();
        }
      });
    } finally {
      for (const stream of held) stream.unsubscribe();
      dashboard.dispose();
      ops.dispose();
    }
  });

  it('counts MAX_WATCHED_DEVICES_PER_CALLER over WebSocket and event streams together', async () => {
    const ws = graphqlWsClient(graph.url, bearer(dashboardKey.key));
    const sse = sseClient(streamUrl, bearer(dashboardKey.key));
    const overWs = subscribe<Change, Record<string, unknown>>(ws, WATCH, { ids: ['GID_fleet-eu@@@w-1', 'GID_fleet-eu@@@w-2'] });
    try {
      expect(await changeOf(overWs, 'the WebSocket watch')).toMatchObject({ initial: true });
      const errors = await refusalOf(watch(sse, ['GID_fleet-eu@@@w-3', 'GID_fleet-eu@@@w-4']));
      expect(errors).toEqual([expect.objectContaining({ message: expect.stringContaining('MAX_WATCHED_DEVICES_PER_CALLER') })]);
    } finally {
      overWs.unsubscribe();
      await ws.dispose();
      sse.dispose();
    }
  });
});
