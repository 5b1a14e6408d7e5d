import { GraphQLError } from 'graphql';
import type { RequestHooks } from './request-listeners.plugin';

/**
 * Apollo Server would run a subscription sent over HTTP as if it were a query, calling its resolver
 * with no event. Refuse it clearly instead, naming where subscriptions are served.
 */
export function subscriptionsOverHttpHooks(): RequestHooks {
  return {
    async didResolveOperation({ operation }) {
      if (operation?.operation !== 'subscription') return;
      throw new GraphQLError('Subscriptions are served over WebSocket (graphql-transport-ws protocol) at /graphql, and over Server-Sent Events (graphql-sse protocol, Accept: text/event-stream) at /graphql/stream or /graphql, not as a plain HTTP request', {
        extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
      });
    },
  };
}
