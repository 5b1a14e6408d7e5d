/**
 * A small urql 6 app's data layer: lists devices, then follows them live. urql's defaults
 * throughout: `fetchExchange` (short queries as GET, which the service answers with no extra header:
 * docs/federation-and-http.md, "GET and CSRF prevention"), Graphcache with no keys or updaters (it keys `Device` by `id`),
 * and subscriptions over Server-Sent Events with graphql-sse's own client (`/graphql/stream`).
 * Every event carries its device's status, so Graphcache updates the listed `Device` and the query,
 * watched with `cache-only`, re-renders from the cache alone.
 */
import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { createClient as createSseClient } from 'graphql-sse';
import { FleetChangesDocument, FleetDocument, type ListedDevice } from '../operations';

export interface FleetOptions {
  /** The service's GraphQL URL, http(s)://…/graphql. */
  url: string;
  clientIds: string[];
  /** `Authorization` or `X-API-Key` when the service wants credentials. */
  headers?: Record<string, string>;
  /** Called with the whole list, from Graphcache, after the query and after every event. */
  onList(devices: readonly ListedDevice[]): void;
  onError?(error: Error): void;
}

export function followFleet(options: FleetOptions): { stop(): void } {
  const sse = createSseClient({ url: `${options.url}/stream`, headers: options.headers });
  const client = new Client({
    url: options.url,
    fetchOptions: () => ({ headers: options.headers ?? {} }),
    exchanges: [
      cacheExchange(),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: sse.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
  const variables = { clientIds: options.clientIds };
  // The query stays subscribed: Graphcache sends it again whenever an event changes a listed Device.
  const list = client.query(FleetDocument, variables).subscribe((result) => {
    if (result.error) options.onError?.(result.error);
    if (result.data) options.onList(result.data.devices);
  });
  const changes = client.subscription(FleetChangesDocument, variables).subscribe((result) => {
    if (result.error) options.onError?.(result.error);
  });
  return {
    stop() {
      changes.unsubscribe();
      list.unsubscribe();
      sse.dispose();
    },
  };
}
