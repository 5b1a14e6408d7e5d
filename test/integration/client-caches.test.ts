import { ApolloClient, HttpLink, InMemoryCache, split, gql as apolloGql, type NormalizedCacheObject } from '@apollo/client/core';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { Client as UrqlClient, fetchExchange, subscriptionExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { parse } from 'graphql';
import type { Client as WsClient } from 'graphql-ws';
import mqtt, { type MqttClient } from 'mqtt';
import { deviceGlobalId } from '../../src/graphql/device-id';
import { graphqlWsClient } from '../support/graphql-ws-client';
import { SessionAction, startTestGraph, type TestGraph } from '../support/test-graph';

/**
 * Issue 17, item 1, with the normalising caches clients really use: Apollo Client's InMemoryCache and
 * urql's Graphcache, both with no cache configuration for Device (they key it by `id`). A query puts a
 * Device in the cache; a subscription event then must leave that cached Device right by itself,
 * `online` and `presence`, with no upstream call for the event's device.
 *
 * The batch answers lag by a minute here (LOCAL_BATCH_LAG_MS, as Alibaba's internal cache may): a
 * device that has just connected is still offline in any batch lookup. Before this fix the event's
 * `device.online` was such a lookup, and the cache stored `false` from an event saying `online: true`.
 */
const QUERY = `query Device($clientId: ID!) {
  device(clientId: $clientId) { id clientId online presence { online source } }
}`;
const WATCH = `subscription Watch($ids: [ID!]!) {
  presenceChanged(clientIds: $ids) { online initial device { id clientId online presence { online source } } }
}`;

interface DeviceData {
  __typename?: string;
  id: string;
  clientId: string;
  online: boolean | null;
  presence: { online: boolean; source: string } | null;
}
interface Event {
  presenceChanged: { online: boolean; initial: boolean; device: DeviceData };
}

/** Events as they arrive, each awaited with a deadline (no sleeps). */
class EventQueue {
  private readonly events: Event[] = [];
  private wake: (() => void) | undefined;
  push(event: Event): void {
    this.events.push(event);
    this.wake?.();
  }
  async next(what: string, timeoutMs = 5000): Promise<Event> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event for ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.events.shift()!;
  }
}

describe('client caches kept right by presenceChanged alone (lagging batch answers)', () => {
  let graph: TestGraph;
  const devices: MqttClient[] = [];
  const wsClients: WsClient[] = [];

  beforeAll(async () => {
    // Notices off: the subscription's events come from the broker (local instance), and every
    // lookup goes to the batch action, which lags by a minute.
    graph = await startTestGraph({ STATUS_NOTICES: 'off', LOCAL_BATCH_LAG_MS: '60000' });
  });
  afterAll(async () => {
    for (const device of devices) await device.endAsync();
    for (const client of wsClients) await client.dispose();
    await graph?.stop();
  });

  const wsClient = (): WsClient => {
    const client = graphqlWsClient(graph.url);
    wsClients.push(client);
    return client;
  };
  const connect = async (clientId: string): Promise<MqttClient> => {
    const device = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId, reconnectPeriod: 0 });
    devices.push(device);
    return device;
  };
  const upstreamCalls = () => [...graph.upstreamCalls(SessionAction.Batch), ...graph.upstreamCalls(SessionAction.Exact)];

  it('Apollo Client (InMemoryCache, GraphQLWsLink): the cached Device follows each event, with no upstream call', async () => {
    const clientId = 'GID_caches@@@apollo-1';
    const id = deviceGlobalId({ instanceId: graph.local!.instanceId, clientId });
    const link = split(
      ({ query }) => {
        const definition = getMainDefinition(query);
        return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
      },
      new GraphQLWsLink(wsClient()),
      new HttpLink({ uri: graph.url }),
    );
    const apollo: ApolloClient<NormalizedCacheObject> = new ApolloClient({ link, cache: new InMemoryCache() });
    const query = apolloGql(QUERY);

    const queried = await apollo.query<{ device: DeviceData }>({ query, variables: { clientId } });
    expect(queried.data.device).toMatchObject({ id, online: false, presence: { online: false, source: 'BATCH' } });
    // Keyed by `id` with no typePolicies.
    expect(apollo.cache.identify({ __typename: 'Device', id })).toBe(`Device:${id}`);
    expect(apollo.cache.extract()[`Device:${id}`]).toMatchObject({ online: false });

    graph.local!.emulator.resetCalls();
    const events = new EventQueue();
    const subscription = apollo.subscribe<Event>({ query: apolloGql(WATCH), variables: { ids: [clientId] } }).subscribe({
      next: (result) => events.push(result.data!),
    });
    try {
      expect((await events.next('the current status')).presenceChanged).toMatchObject({ initial: true, online: false, device: { id, online: false } });

      const device = await connect(clientId);
      const online = (await events.next('the connect')).presenceChanged;
      // The event and its device agree, although any batch lookup still says offline.
      expect(online).toMatchObject({ initial: false, online: true, device: { id, online: true, presence: { online: true, source: 'EVENTS' } } });
      // The query's cached Device, read back from the cache alone, is online now.
      const cached = apollo.readQuery<{ device: DeviceData }>({ query, variables: { clientId } });
      expect(cached?.device).toMatchObject({ id, online: true, presence: { online: true, source: 'EVENTS' } });

      await device.endAsync();
      expect((await events.next('the disconnect')).presenceChanged).toMatchObject({ online: false, device: { online: false } });
      expect(apollo.readQuery<{ device: DeviceData }>({ query, variables: { clientId } })?.device.online).toBe(false);

      // No lookup for any event's device: the upstream saw nothing since the query.
      expect(upstreamCalls()).toEqual([]);
    } finally {
      subscription.unsubscribe();
      apollo.stop();
    }
  });

  it('urql Graphcache (subscriptionExchange over graphql-ws): the cached Device follows each event, with no upstream call', async () => {
    const clientId = 'GID_caches@@@urql-1';
    const id = deviceGlobalId({ instanceId: graph.local!.instanceId, clientId });
    const ws = wsClient();
    const urql = new UrqlClient({
      url: graph.url,
      // POST: urql's default GET for short queries is the transports' item (issue 17, item 3), not this one.
      preferGetMethod: false,
      exchanges: [
        // No key for Device: Graphcache finds its `id`. Presence has no identity (a value of its
        // device): marked embedded, which only silences Graphcache's missing-key warning.
        cacheExchange({ keys: { Presence: () => null } }),
        subscriptionExchange({
          forwardSubscription: (request) => ({
            subscribe: (sink) => ({ unsubscribe: ws.subscribe({ query: request.query ?? '', variables: request.variables }, sink) }),
          }),
        }),
        fetchExchange,
      ],
    });
    const query = parse(QUERY);

    const queried = await urql.query<{ device: DeviceData }>(query, { clientId }).toPromise();
    expect(queried.error).toBeUndefined();
    expect(queried.data?.device).toMatchObject({ id, online: false, presence: { online: false, source: 'BATCH' } });

    graph.local!.emulator.resetCalls();
    const events = new EventQueue();
    const { unsubscribe } = urql.subscription<Event>(parse(WATCH), { ids: [clientId] }).subscribe((result) => {
      if (result.error) throw result.error;
      events.push(result.data!);
    });
    try {
      expect((await events.next('the current status')).presenceChanged).toMatchObject({ initial: true, online: false, device: { id, online: false } });

      const device = await connect(clientId);
      expect((await events.next('the connect')).presenceChanged).toMatchObject({ online: true, device: { id, online: true } });
      const cached = urql.readQuery<{ device: DeviceData }>(query, { clientId });
      expect(cached?.data?.device).toMatchObject({ id, online: true, presence: { online: true, source: 'EVENTS' } });

      await device.endAsync();
      expect((await events.next('the disconnect')).presenceChanged).toMatchObject({ online: false, device: { online: false } });
      expect(urql.readQuery<{ device: DeviceData }>(query, { clientId })?.data?.device.online).toBe(false);

      expect(upstreamCalls()).toEqual([]);
    } finally {
      unsubscribe();
    }
  });

  it('still asks QuerySessionByClientId for an event device\'s `online(exact: true)`', async () => {
    const clientId = 'GID_caches@@@exact-1';
    graph.local!.emulator.resetCalls();
    const events = new EventQueue();
    const ws = wsClient();
    const unsubscribe = ws.subscribe<Event>(
      { query: 'subscription($ids: [ID!]!) { presenceChanged(clientIds: $ids) { online device { online(exact: true) } } }', variables: { ids: [clientId] } },
      { next: (result) => events.push(result.data!), error: () => undefined, complete: () => undefined },
    );
    try {
      expect((await events.next('the current status')).presenceChanged).toMatchObject({ online: false, device: { online: false } });
      expect(graph.upstreamCalls(SessionAction.Exact).map((call) => call.clientIds)).toEqual([[clientId]]);
      expect(graph.upstreamCalls(SessionAction.Batch)).toEqual([]);
    } finally {
      unsubscribe();
    }
  });
});
