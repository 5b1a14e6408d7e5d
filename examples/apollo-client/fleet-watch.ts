/**
 * A small Apollo Client 3 app (Node): lists devices, then follows them live. Apollo Client's defaults
 * throughout: `HttpLink` (JSON POST) for the query, `GraphQLWsLink` (graphql-ws, same URL) for the
 * subscription, an `InMemoryCache` with no type policies. The subscription's events update each
 * cached `Device` (keyed by `id`), so the query's list, read again from the cache, is always current.
 *
 *   npm run local-instance & npm run devices   # or any running service
 *   npx ts-node examples/apollo-client/fleet-watch.ts http://localhost:4000/graphql GID_demo@@@device-1 …
 */
import { ApolloClient, HttpLink, InMemoryCache, split, type NormalizedCacheObject } from '@apollo/client/core';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { FleetChangesDocument, FleetDocument, type ListedDevice } from '../operations';

export interface FleetWatchOptions {
  /** The service's GraphQL URL, http(s)://…/graphql: WebSocket at the same URL. */
  url: string;
  clientIds: string[];
  /** `Authorization` or `X-API-Key` when the service wants credentials; sent as connection params over WebSocket. */
  headers?: Record<string, string>;
  /** Called with the whole list, read from the cache, after the query and after every event. */
  onList?(devices: readonly ListedDevice[]): void;
}

export interface FleetWatch {
  readonly client: ApolloClient<NormalizedCacheObject>;
  /** The list as the cache holds it now. */
  devices(): readonly ListedDevice[];
  stop(): Promise<void>;
}

export async function watchFleet(options: FleetWatchOptions): Promise<FleetWatch> {
  const wsClient = createClient({ url: options.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: options.headers });
  const link = split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    new GraphQLWsLink(wsClient),
    new HttpLink({ uri: options.url, headers: options.headers }),
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const variables = { clientIds: options.clientIds };
  const devices = (): readonly ListedDevice[] => client.readQuery({ query: FleetDocument, variables })?.devices ?? [];

  await client.query({ query: FleetDocument, variables });
  options.onList?.(devices());
  const subscription = client.subscribe({ query: FleetChangesDocument, variables }).subscribe({
    // Nothing to write by hand: the event's `device { id online }` has already updated the cache.
    next: () => options.onList?.(devices()),
    error: (error: unknown) => console.error('subscription failed:', error),
  });
  return {
    client,
    devices,
    async stop() {
      subscription.unsubscribe();
      client.stop();
      await wsClient.dispose();
    },
  };
}

if (require.main === module) {
  const [url = 'http://localhost:4000/graphql', ...clientIds] = process.argv.slice(2);
  const apiKey = process.env.PRESENCE_API_KEY;
  void watchFleet({
    url,
    clientIds: clientIds.length > 0 ? clientIds : ['GID_demo@@@device-1', 'GID_demo@@@device-2', 'GID_demo@@@device-3'],
    headers: apiKey ? { 'X-API-Key': apiKey } : undefined,
    onList: (devices) => console.log(devices.map((device) => `${device.clientId} ${device.online ? 'online' : 'offline'}`).join('\n'), '\n'),
  });
}
