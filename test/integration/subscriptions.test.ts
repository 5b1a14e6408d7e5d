import { createClient, type Client } from 'graphql-ws';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { PresenceChangedDocument } from '../../generated/graphql';
import { startLocalInstance, type LocalInstance } from '../../src/local/local-instance';
import { postGraphQL } from '../support/graphql-client';
import { graphqlWsClient, subscribe, type TestSubscription } from '../support/graphql-ws-client';
import { makeIssuer, type TestIssuer } from '../support/credentials';
import { bearer, dashboardKey, opsKey, startApiKeyGraph } from '../support/secured-graph';
import { SessionAction, startTestGraph, type TestGraph } from '../support/test-graph';
import { waitFor } from '../support/wait-for';

interface Change {
  presenceChanged: { device: { clientId: string; online?: boolean | null }; online: boolean; at: string; initial: boolean };
}

const WATCH = `subscription Watch($ids: [ID!]!, $instanceId: String) {
  presenceChanged(clientIds: $ids, instanceId: $instanceId) { device { clientId } online at initial }
}`;

/**
 * A refused subscription: graphql-js answers a failing `subscribe` with one result carrying the
 * errors (graphql-ws sends it as `next`), and the operation completes without any event.
 */
const refusalOf = async (subscription: TestSubscription<Change>) => {
  const result = await subscription.next('the refusal');
  expect(result.data ?? null).toBeNull();
  expect(await subscription.ended()).toEqual({ completed: true });
  return result.errors;
};

const changeOf = async (subscription: TestSubscription<Change>, what: string, timeoutMs?: number) => {
  const result = await subscription.next(what, timeoutMs);
  expect(result.errors).toBeUndefined();
  return result.data!.presenceChanged;
};

/**
 * PRESENCE_SOURCE=local: the broker pushes every connect and disconnect to subscribers at once,
 * through graphql-ws at /graphql, with a real MQTT client doing the connecting.
 */
describe('presenceChanged on the local instance', () => {
  let graph: TestGraph;
  let client: Client;
  beforeAll(async () => {
    graph = await startTestGraph();
    client = graphqlWsClient(graph.url);
  });
  afterAll(async () => {
    await client?.dispose();
    await graph?.stop();
  });

  it('sends the current status first, then a real MQTT client going online and offline, each within a second', async () => {
    const clientId = 'GID_live@@@subscriber-1';
    const subscription = subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: [clientId] });
    expect(await changeOf(subscription, 'the current status')).toMatchObject({ device: { clientId }, online: false, initial: true });

    const device = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId, reconnectPeriod: 0 });
    const connectedAt = Date.now();
    const online = await changeOf(subscription, 'the connect', 1000);
    expect(online).toMatchObject({ device: { clientId }, online: true, initial: false });
    expect(Date.now() - connectedAt).toBeLessThan(1000);
    expect(Math.abs(Date.parse(online.at) - connectedAt)).toBeLessThan(1000);

    await device.endAsync();
    const leftAt = Date.now();
    expect(await changeOf(subscription, 'the disconnect', 1000)).toMatchObject({ device: { clientId }, online: false, initial: false });
    expect(Date.now() - leftAt).toBeLessThan(1000);
    subscription.unsubscribe();
  });

  it('answers `device { online }` inside each event afresh: no loader is kept from one event to the next', async () => {
    const clientId = 'GID_live@@@subscriber-2';
    const subscription = subscribe<Change, Record<string, unknown>>(
      client,
      'subscription($ids: [ID!]!) { presenceChanged(clientIds: $ids) { online device { clientId online(exact: true) } } }',
      { ids: [clientId] },
    );
    expect((await changeOf(subscription, 'the current status')).device.online).toBe(false);
    const device = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId, reconnectPeriod: 0 });
    expect(await changeOf(subscription, 'the connect')).toMatchObject({ online: true, device: { online: true } });
    await device.endAsync();
    expect(await changeOf(subscription, 'the disconnect')).toMatchObject({ online: false, device: { online: false } });
    subscription.unsubscribe();
  });

  it('refuses a malformed Client ID with BAD_USER_INPUT, before watching anything', async () => {
    const subscription = subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: ['GID_live@@@ok-1', 'not-a-client-id'] });
    expect(await refusalOf(subscription)).toEqual([expect.objectContaining({ message: expect.stringContaining('not-a-client-id'), extensions: { code: 'BAD_USER_INPUT' } })]);
  });

  it('refuses more distinct IDs than MAX_IDS_PER_REQUEST with BAD_USER_INPUT', async () => {
    const ids = Array.from({ length: 101 }, (_, i) => `GID_live@@@many-${i}`);
    expect(await refusalOf(subscribe<Change, Record<string, unknown>>(client, WATCH, { ids }))).toEqual([
      expect.objectContaining({ message: expect.stringContaining('MAX_IDS_PER_REQUEST'), extensions: { code: 'BAD_USER_INPUT' } }),
    ]);
  });

  it('refuses a subscription whose events would carry more than MAX_QUERY_COST device fields, before watching anything', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `GID_live@@@cost-${i}`);
    const aliases = Array.from({ length: 20 }, (_, i) => `p${i}: presence { online checkedAt }`).join(' ');
    const query = `subscription Wide($ids: [ID!]!) { presenceChanged(clientIds: $ids) { device { clientId ${aliases} } online } }`;
    const refused = await subscribe(client, query, { ids }).ended();
    expect(refused).toEqual({
      errors: [expect.objectContaining({ message: expect.stringMatching(/^This subscription would return 6300 device fields.*MAX_QUERY_COST/), extensions: { code: 'BAD_USER_INPUT' } })],
    });
  });

  it('refuses an instance other than the local one, which the embedded broker cannot watch', async () => {
    const subscription = subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: ['GID_live@@@x-1'], instanceId: 'post-cn-elsewhere' });
    expect(await refusalOf(subscription)).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } })]);
  });

  it('answers queries over the same socket under the limits of HTTP', async () => {
    const query = 'query($ids: [ID!]!) { devices(clientIds: $ids) { clientId online } }';
    const answered = subscribe<{ devices: Array<{ clientId: string; online: boolean }> }, Record<string, unknown>>(client, query, { ids: ['GID_live@@@q-1'] });
    expect((await answered.next('the answer')).data).toEqual({ devices: [{ clientId: 'GID_live@@@q-1', online: false }] });

    const ids = Array.from({ length: 101 }, (_, i) => `GID_live@@@q-${i}`);
    const refused = await subscribe(client, query, { ids }).ended();
    expect(refused).toEqual({ errors: [expect.objectContaining({ message: expect.stringContaining('MAX_IDS_PER_REQUEST'), extensions: { code: 'BAD_USER_INPUT' } })] });
  });

  it('answers a document of two operations without an operationName with OPERATION_RESOLUTION_FAILURE, as over HTTP, not an internal error', async () => {
    const refused = await subscribe(client, 'query A { __typename } query B { __typename }').ended();
    expect(refused).toEqual({
      errors: [{ message: 'The document must name the operation to run (operationName)', extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } }],
    });
  });

  it('logs an upstream failure of an operation over the socket for the operator, as over HTTP', async () => {
    const query = 'query Foreign { devices(clientIds: ["GID_live@@@q-1"], instanceId: "mqtt-not-ours") { online } }';
    const answer = await subscribe<{ devices: Array<{ online: boolean | null }> }, Record<string, unknown>>(client, query, {}).next('the answer');
    expect(answer.errors?.[0].extensions?.code).toBe('UPSTREAM_AUTH_FAILED');
    const line = graph.logs.find((text) => text.includes('"operationName":"Foreign"'));
    expect(JSON.parse(line!)).toMatchObject({ level: 40, code: 'UPSTREAM_AUTH_FAILED', upstream: { code: 'InstancePermissionCheckFailed' } });
  });

  it('refuses a subscription sent over HTTP with 400, naming the WebSocket endpoint', async () => {
    const response = await postGraphQL(graph.url, PresenceChangedDocument);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]).toMatchObject({ message: expect.stringContaining('WebSocket'), extensions: { code: 'BAD_REQUEST' } });
  });

  it('refuses a WebSocket from a page of another origin that CORS_ORIGINS does not list', async () => {
    const { default: WebSocket } = await import('ws');
    const socket = new WebSocket(graph.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { origin: 'https://evil.example' });
    const status = await new Promise<number | undefined>((resolve) => {
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode));
      socket.once('open', () => resolve(101));
      socket.once('error', () => resolve(undefined));
    });
    socket.terminate();
    expect(status).toBe(403);
  });

  it('closes a socket that sends a malformed frame with the protocol\'s code, writing nothing to stderr', async () => {
    const { default: WebSocket } = await import('ws');
    const consoleError = jest.spyOn(console, 'error');
    try {
      const closeCodes: number[] = [];
      for (const frame of [Buffer.from([0xff, 0xfe]), Buffer.alloc(70 * 1024, 0x61)]) {
        const socket = new WebSocket(graph.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
        await new Promise((resolve) => socket.once('open', resolve));
        const closed = new Promise<number>((resolve) => socket.once('close', resolve));
        socket.on('error', () => undefined);
        socket.send(frame, { binary: false });
        closeCodes.push(await closed);
      }
      // Invalid UTF-8 in a text frame; a frame over the 64 KiB maxPayload.
      expect(closeCodes).toEqual([1007, 1009]);
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
    }
  });
});

/** Auth and scopes apply when the subscription starts, from the connection params. */
describe('presenceChanged with API keys', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startApiKeyGraph();
  });
  afterAll(async () => {
    await graph?.stop();
  });

  it('closes a connection without valid credentials with 4401, which graphql-ws clients do not retry, before any operation runs', async () => {
    let attempts = 0;
    // Retries on, as in an app: a 4403 would be retried for about 35 s (GraphiQL spins meanwhile).
    const client = createClient({
      url: graph.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: bearer('not-a-key'),
      retryAttempts: 5,
      on: { connecting: () => attempts++ },
    });
    const end = await subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: ['GID_fleet-eu@@@truck-1'] }).ended();
    expect(end).toEqual({ closeCode: 4401, reason: 'Invalid API key' });
    expect(attempts).toBe(1);
    const missing = graphqlWsClient(graph.url);
    expect(await subscribe<Change, Record<string, unknown>>(missing, WATCH, { ids: ['GID_fleet-eu@@@truck-1'] }).ended()).toMatchObject({ closeCode: 4401 });
    await Promise.all([client.dispose(), missing.dispose()]);
  });

  it('refuses an out-of-scope Client ID with FORBIDDEN and accepts the caller\'s own devices', async () => {
    const client = graphqlWsClient(graph.url, bearer(dashboardKey.key));
    const refused = subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: ['GID_fleet-eu@@@truck-1', 'GID_payroll@@@meter-1'] });
    expect(await refusalOf(refused)).toEqual([
      expect.objectContaining({ message: expect.stringContaining('GID_payroll@@@meter-1'), extensions: { code: 'FORBIDDEN' } }),
    ]);

    const allowed = subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: ['GID_fleet-eu@@@truck-1'] });
    expect(await changeOf(allowed, 'the current status')).toMatchObject({ online: false, initial: true });
    allowed.unsubscribe();
    await client.dispose();
  });
});

describe('WebSocket caps per connection and per caller', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startApiKeyGraph({ MAX_SUBSCRIPTIONS_PER_CONNECTION: '2', MAX_CONNECTIONS_PER_CALLER: '1', MAX_QUERY_BYTES: '1024' });
  });
  afterAll(async () => {
    await graph?.stop();
  });

  it('refuses a subscription beyond MAX_SUBSCRIPTIONS_PER_CONNECTION with BAD_USER_INPUT, and accepts one again once another completes', async () => {
    const client = graphqlWsClient(graph.url, bearer(dashboardKey.key));
    try {
      const first = subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: ['GID_fleet-eu@@@cap-1'] });
      const second = subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: ['GID_fleet-eu@@@cap-2'] });
      expect(await changeOf(first, 'the first status')).toMatchObject({ initial: true });
      expect(await changeOf(second, 'the second status')).toMatchObject({ initial: true });

      const third = await subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: ['GID_fleet-eu@@@cap-3'] }).ended();
      expect(third).toEqual({ errors: [expect.objectContaining({ message: expect.stringContaining('MAX_SUBSCRIPTIONS_PER_CONNECTION'), extensions: { code: 'BAD_USER_INPUT' } })] });

      first.unsubscribe();
      const again = subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: ['GID_fleet-eu@@@cap-3'] });
      expect(await changeOf(again, 'the status after a slot freed')).toMatchObject({ device: { clientId: 'GID_fleet-eu@@@cap-3' }, initial: true });
      second.unsubscribe();
      again.unsubscribe();
    } finally {
      await client.dispose();
    }
  });

  it('counts a query the client completed while it still runs: completing each at once does not lift the limit', async () => {
    const client = graphqlWsClient(graph.url, bearer(dashboardKey.key));
    graph.local!.emulator.setFaults({ latencyMs: 3000 });
    try {
      const slow = 'query($id: ID!) { device(clientId: $id) { online(exact: true) } }';
      const started = ['GID_fleet-eu@@@slow-1', 'GID_fleet-eu@@@slow-2'].map((id) => subscribe(client, slow, { id }));
      await waitFor('both queries to reach the upstream', () => graph.upstreamCalls(SessionAction.Exact).length >= 2, 5000);
      for (const query of started) query.unsubscribe();
      const third = await subscribe(client, slow, { id: 'GID_fleet-eu@@@slow-3' }).ended();
      expect(third).toEqual({ errors: [expect.objectContaining({ message: expect.stringContaining('MAX_SUBSCRIPTIONS_PER_CONNECTION'), extensions: { code: 'BAD_USER_INPUT' } })] });
    } finally {
      graph.local!.emulator.setFaults({ latencyMs: 0 });
      await client.dispose();
    }
  });

  it('refuses a query text longer than MAX_QUERY_BYTES over the socket with BAD_REQUEST, before parsing it', async () => {
    const client = graphqlWsClient(graph.url, bearer(dashboardKey.key));
    try {
      const padded = `{ devices(clientIds: ["GID_fleet-eu@@@long-1"]) { online } } # ${'x'.repeat(1024)}`;
      expect(await subscribe(client, padded).ended()).toEqual({
        errors: [expect.objectContaining({ message: expect.stringContaining('MAX_QUERY_BYTES'), extensions: { code: 'BAD_REQUEST' } })],
      });
    } finally {
      await client.dispose();
    }
  });

  it('closes a caller\'s connection beyond MAX_CONNECTIONS_PER_CALLER with 4429, counts each caller apart, and frees the slot on close', async () => {
    const watch = (client: Client, clientId: string) => subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: [clientId] });
    const held = graphqlWsClient(graph.url, bearer(dashboardKey.key));
    const other = graphqlWsClient(graph.url, bearer(opsKey.key));
    const extra = graphqlWsClient(graph.url, bearer(dashboardKey.key));
    try {
      expect(await changeOf(watch(held, 'GID_fleet-eu@@@conn-1'), 'the held connection\'s status')).toMatchObject({ initial: true });
      expect(await watch(extra, 'GID_fleet-eu@@@conn-2').ended()).toEqual({ closeCode: 4429, reason: 'Too many connections' });
      expect(await changeOf(watch(other, 'GID_fleet-eu@@@conn-3'), 'another caller\'s status')).toMatchObject({ initial: true });

      await held.dispose();
      // The server counts the close when it sees it: each attempt is a fresh connection, refused until then.
      await waitFor('a new connection once the held one closed', async () => {
        const retry = graphqlWsClient(graph.url, bearer(dashboardKey.key));
        try {
          const result = await watch(retry, 'GID_fleet-eu@@@conn-4').next('the status on a new connection');
          return result.data?.presenceChanged.initial === true;
        } finally {
          await retry.dispose();
        }
      });
    } finally {
      await Promise.all([held.dispose(), other.dispose(), extra.dispose()]);
    }
  });
});

describe('WebSocket connections of JWT callers', () => {
  let issuer: TestIssuer;
  let graph: TestGraph;
  beforeAll(async () => {
    issuer = await makeIssuer();
    graph = await startTestGraph({ AUTH_MODE: 'jwt', JWT_JWKS_FILE: issuer.jwksFile, JWT_ISSUER: issuer.issuer, JWT_AUDIENCE: issuer.audience });
  });
  afterAll(async () => {
    await graph?.stop();
    issuer?.dispose();
  });

  it('serves subscriptions until the token expires, then closes the socket with 4401', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const token = await issuer.sign({ instances: ['*'], groups: ['*'] }, { expiresAt });
    const client = graphqlWsClient(graph.url, bearer(token));
    try {
      const subscription = subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: ['GID_fleet-eu@@@jwt-1'] });
      expect(await changeOf(subscription, 'the current status')).toMatchObject({ initial: true });
      expect(await subscription.ended(5000)).toEqual({ closeCode: 4401, reason: 'Credentials expired' });
      expect(Date.now()).toBeGreaterThanOrEqual(expiresAt * 1000);
    } finally {
      await client.dispose();
    }
  });

  it('lets a client reconnect with a fresh token after 4401, as docs/security.md shows: subscribe again, with connectionParams read per connection', async () => {
    let tokensIssued = 0;
    const client = createClient({
      url: graph.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      lazy: true,
      // Called on every connection: a fresh token each time (the first one lives 2 s).
      connectionParams: async () => {
        tokensIssued++;
        const expiresAt = Math.floor(Date.now() / 1000) + (tokensIssued === 1 ? 2 : 300);
        return bearer(await issuer.sign({ instances: ['*'], groups: ['*'] }, { expiresAt }));
      },
    });
    try {
      const first = subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: ['GID_fleet-eu@@@jwt-3'] });
      expect(await changeOf(first, 'the current status')).toMatchObject({ initial: true });
      expect(await first.ended(5000)).toMatchObject({ closeCode: 4401 });
      const again = subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: ['GID_fleet-eu@@@jwt-3'] });
      expect(await changeOf(again, 'the current status on the new connection')).toMatchObject({ initial: true });
      expect(tokensIssued).toBe(2);
    } finally {
      await client.dispose();
    }
  });

  it('closes at once a socket whose token expired within the verifier\'s clock tolerance, before any operation runs', async () => {
    const token = await issuer.sign({ instances: ['*'], groups: ['*'] }, { expiresAt: Math.floor(Date.now() / 1000) - 1 });
    const client = graphqlWsClient(graph.url, bearer(token));
    try {
      const end = await subscribe<Change, Record<string, unknown>>(client, WATCH, { ids: ['GID_fleet-eu@@@jwt-2'] }).ended();
      expect(end).toEqual({ closeCode: 4401, reason: 'Credentials expired' });
    } finally {
      await client.dispose();
    }
  });
});

describe('operations over WebSocket with INTROSPECTION=false', () => {
  let graph: TestGraph;
  let client: Client;
  beforeAll(async () => {
    graph = await startTestGraph({ INTROSPECTION: 'false' });
    client = graphqlWsClient(graph.url);
  });
  afterAll(async () => {
    await client?.dispose();
    await graph?.stop();
  });

  it('refuses introspection and suggests no field names, as over HTTP', async () => {
    const introspection = await subscribe(client, '{ __schema { queryType { name } } }').ended();
    expect(introspection).toEqual({
      errors: expect.arrayContaining([
        expect.objectContaining({ message: expect.stringContaining('introspection has been disabled'), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
      ]),
    });
    const typo = await subscribe(client, '{ devicez(clientIds: []) { clientId } }').ended();
    expect(typo).toEqual({
      errors: [{ message: 'Cannot query field "devicez" on type "Query".', locations: [{ line: 1, column: 3 }], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }],
    });
  });
});

/**
 * PRESENCE_SOURCE=alibaba, pointed at a local instance's emulator (the same wire format, signatures
 * and limits as the cloud): one shared poller asks about the union of watched IDs, 10 per call.
 */
describe('presenceChanged on PRESENCE_SOURCE=alibaba (the shared poller)', () => {
  const POLL_INTERVAL_MS = 300;
  const SUBSCRIBERS = 1000;
  const ids = Array.from({ length: 10 }, (_, i) => `GID_poll@@@unit-${i}`);
  let instance: LocalInstance;
  let graph: TestGraph;
  let client: Client;
  let subscriptions: Array<TestSubscription<Change>>;
  const batchCalls = () => instance.emulator.calls.filter((call) => call.action === SessionAction.Batch);

  beforeAll(async () => {
    instance = await startLocalInstance({ ...localInstanceConfig(), batchLagMs: 0 });
    graph = await startTestGraph({
      PRESENCE_SOURCE: 'alibaba',
      // One anonymous test caller: the cloud source refuses to start anonymous unless told.
      ALLOW_ANONYMOUS: 'true',
      ONSMQTT_ENDPOINT: instance.endpoint,
      MQTT_INSTANCE_ID: instance.instanceId,
      ALIBABA_CLOUD_ACCESS_KEY_ID: instance.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: instance.accessKeySecret,
      SUBSCRIPTION_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
      MAX_SUBSCRIPTIONS_PER_CONNECTION: String(SUBSCRIBERS),
      // A thousand subscribes at once from one caller: this suite measures the poller, not the operations share.
      CALLER_OPERATIONS_PER_SECOND: '0',
    });
    client = graphqlWsClient(graph.url);
    // A thousand subscribers watching the same ten devices, over one socket (graphql-ws multiplexes).
    subscriptions = Array.from({ length: SUBSCRIBERS }, () => subscribe<Change, Record<string, unknown>>(client, WATCH, { ids }));
    await Promise.all(
      subscriptions.map(async (subscription) => {
        for (let i = 0; i < ids.length; i++) expect(await changeOf(subscription, 'the current statuses', 15_000)).toMatchObject({ online: false, initial: true });
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await client?.dispose();
    await graph?.stop();
    await instance?.stop();
  });

  it('costs one 10-ID BatchQuerySessionByClientIds call per poll interval for a thousand subscribers of the same ten devices', async () => {
    // The emulator runs in this process: while the setup's ten thousand events were being sent, the
    // event loop was busy and calls arrived late. Counting starts once two rounds have arrived since.
    const setupDoneAt = Date.now();
    const settled = await waitFor('two poll rounds after the setup', () => batchCalls().filter((call) => call.at >= setupDoneAt)[1]);
    const callsSince = () => batchCalls().filter((call) => call.at > settled.at);
    await waitFor('five poll rounds', () => callsSince().length >= 5, 10 * POLL_INTERVAL_MS);

    const calls = callsSince();
    const spanMs = calls[calls.length - 1].at - settled.at;
    // Round i arrives about i · interval after the one we started from: at most span / interval
    // rounds in `span` (50 ms allowed for the calls' own network jitter).
    expect(calls.length).toBeLessThanOrEqual(Math.floor(spanMs / (POLL_INTERVAL_MS - 50)));
    for (const call of calls) expect([...call.clientIds].sort()).toEqual([...ids].sort());
    const gaps = calls.slice(1).map((call, i) => call.at - calls[i].at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(POLL_INTERVAL_MS - 50);
  });

  it('tells every subscriber about a change once, and nothing while nothing changes', async () => {
    const device = await mqtt.connectAsync(instance.mqttUrl, { clientId: ids[3], reconnectPeriod: 0 });
    try {
      await Promise.all(
        subscriptions.map(async (subscription) =>
          expect(await changeOf(subscription, 'the connect', 5 * POLL_INTERVAL_MS)).toMatchObject({ device: { clientId: ids[3] }, online: true, initial: false }),
        ),
      );
      // Two more rounds find nothing new: no subscriber has anything waiting.
      const seen = batchCalls().length;
      await waitFor('two more poll rounds', () => batchCalls().length >= seen + 2, 10 * POLL_INTERVAL_MS);
      expect(subscriptions.every((subscription) => subscription.buffered === 0)).toBe(true);
    } finally {
      await device.endAsync();
    }
  });

  it('stops polling once nobody watches', async () => {
    for (const subscription of subscriptions) subscription.unsubscribe();
    // Unsubscribing is a message each over the socket, and a round may be in flight meanwhile; so the
    // claim is observed over time: the count of calls stops growing, for several intervals in a row.
    await waitFor(
      'no poll call during three intervals',
      async () => {
        const before = batchCalls().length;
        await new Promise((resolve) => setTimeout(resolve, 3 * POLL_INTERVAL_MS));
        return batchCalls().length === before;
      },
      20 * POLL_INTERVAL_MS,
      0,
    );
  });
});

function localInstanceConfig() {
  return {
    instanceId: 'mqtt-poll-test',
    accessKeyId: 'LTAIpolltestkey0001',
    accessKeySecret: 'poll-test-secret',
    host: '127.0.0.1',
    mqttPort: 0,
    openApiPort: 0,
    batchLagMs: 0,
    demoDevices: 0,
  };
}
