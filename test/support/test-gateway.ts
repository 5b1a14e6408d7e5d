import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway, IntrospectAndCompose } from '@apollo/gateway';

export interface TestGateway {
  /** The supergraph's GraphQL endpoint. */
  url: string;
  /** Stops the server and, through it, the gateway (its schema polling and HTTP agents). */
  stop(): Promise<void>;
}

/**
 * An Apollo Gateway composing running subgraphs, as a router would: it reads each one's
 * `_service { sdl }` (IntrospectAndCompose), so the SDL the Presence Graph serves is what gets
 * composed. Served on a free port.
 */
export async function startTestGateway(subgraphs: Array<{ name: string; url: string }>): Promise<TestGateway> {
  const gateway = new ApolloGateway({ supergraphSdl: new IntrospectAndCompose({ subgraphs }), logger: quietLogger });
  const server = new ApolloServer({ gateway, logger: quietLogger });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  return { url, stop: () => server.stop() };
}

/** Apollo's info lines (composition, inline tracing) would only clutter test output: tests assert on responses. */
export const quietLogger = { debug() {}, info() {}, warn: console.warn, error: console.error };
