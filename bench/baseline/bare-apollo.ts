/**
 * The baseline of the layer-overhead scenario: a bare Apollo Server 5 (`startStandaloneServer`, its
 * own node:http integration) with a per-request DataLoader, serving the same schema shape
 * (`devices(clientIds) { clientId online }`) from a Map in memory. No type-graphql, no federation, no
 * plugins, no express, no metrics: what "all-cached" costs at the least with this stack.
 *
 * Env: BENCH_INSTANCE_ID (the default instance), BENCH_ONLINE_IDS (comma-separated Client IDs online).
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import DataLoader from 'dataloader';
import { failStart, serveCommands } from '../lib/child';

const typeDefs = /* GraphQL */ `
  type Query {
    device(clientId: ID!, instanceId: String): Device!
    devices(clientIds: [ID!]!, instanceId: String): [Device!]!
  }
  type Device {
    clientId: ID!
    instanceId: String!
    online: Boolean
  }
`;

interface Device {
  clientId: string;
  instanceId: string;
}
interface Context {
  /** One per request, like the service's RequestPresence. */
  online: DataLoader<string, boolean>;
}

async function main(): Promise<void> {
  const defaultInstanceId = process.env.BENCH_INSTANCE_ID ?? 'mqtt-local-dev';
  // Shared by every request: the "cache", already warm.
  const statuses = new Map<string, boolean>();
  for (const clientId of (process.env.BENCH_ONLINE_IDS ?? '').split(',').filter(Boolean)) statuses.set(`${defaultInstanceId}\n${clientId}`, true);

  const server = new ApolloServer<Context>({
    typeDefs,
    resolvers: {
      Query: {
        device: (_: unknown, args: { clientId: string; instanceId?: string }): Device => ({
          clientId: args.clientId,
          instanceId: args.instanceId ?? defaultInstanceId,
        }),
        devices: (_: unknown, args: { clientIds: string[]; instanceId?: string }): Device[] =>
          args.clientIds.map((clientId) => ({ clientId, instanceId: args.instanceId ?? defaultInstanceId })),
      },
      Device: {
        online: (device: Device, _: unknown, ctx: Context) => ctx.online.load(`${device.instanceId}\n${device.clientId}`),
      },
    },
  });
  const { url } = await startStandaloneServer(server, {
    listen: { host: '127.0.0.1', port: 0 },
    context: async () => ({ online: new DataLoader<string, boolean>(async (keys) => keys.map((key) => statuses.get(key) ?? false)) }),
  });
  serveCommands({ url }, {}, () => server.stop());
}

main().catch(failStart('bare Apollo baseline'));
