/**
 * The baseline of the layer-overhead scenario: a bare Apollo Server 5 (`startStandaloneServer`, its
 * own node:http integration) with a per-request DataLoader, serving the same schema shape
 * (`devices(clientIds) { clientId online }`) from a Map in memory. No type-graphql, no federation, no
 * plugins, no express, no metrics: what "all-cached" costs at the least with this stack.
 *
 * Env: BENCH_INSTANCE_ID (the default instance), BENCH_ONLINE_IDS (comma-separated Client IDs online),
 * PORT (default: a free one). Started by hand, it prints its URL:
 * `BENCH_INSTANCE_ID=mqtt-local-dev PORT=4001 node dist/bench/baseline/bare-apollo.js`.
 *
 * With BENCH_UPSTREAM_ENDPOINT (and BENCH_UPSTREAM_KEY_ID / BENCH_UPSTREAM_KEY_SECRET) the loader asks
 * the upstream instead, the simplest way that could work: each batch split into 10-ID
 * BatchQuerySessionByClientIds calls, all sent at once through the service's own SDK client
 * (`createAlibabaSessionApi`), no cache, no budget, no retries. The uncached-latency scenario's
 * other baseline.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import DataLoader from 'dataloader';
import { createAlibabaSessionApi } from '../../src/upstream/alibaba-session-api';
import { failStart, serveCommands } from '../lib/child';
import { DEVICES_TYPE_DEFS, deviceQueryResolvers, onlineStatuses, type Device } from './devices-schema';

interface Context {
  /** One per request, like the service's RequestPresence. */
  online: DataLoader<string, boolean>;
}

async function main(): Promise<void> {
  const defaultInstanceId = process.env.BENCH_INSTANCE_ID ?? 'mqtt-local-dev';
  // Shared by every request: the "cache", already warm.
  const statuses = onlineStatuses(defaultInstanceId);

  const server = new ApolloServer<Context>({
    typeDefs: DEVICES_TYPE_DEFS,
    resolvers: {
      Query: deviceQueryResolvers(defaultInstanceId),
      Device: {
        online: (device: Device, _: unknown, ctx: Context) => ctx.online.load(`${device.instanceId}\n${device.clientId}`),
      },
    },
  });
  const { url } = await startStandaloneServer(server, {
    listen: { host: '127.0.0.1', port: Number(process.env.PORT ?? 0) },
    context: async () => ({ online: new DataLoader<string, boolean>(batchFunction(statuses)) }),
  });
  serveCommands({ url }, {}, () => server.stop());
  // Started by hand rather than by the bench (no IPC channel): say where it listens.
  if (!process.send) process.stdout.write(`bare Apollo baseline at ${url}\n`);
}

/** From the Map, or (BENCH_UPSTREAM_ENDPOINT) from the upstream in parallel 10-ID calls. */
function batchFunction(statuses: Map<string, boolean>): DataLoader.BatchLoadFn<string, boolean> {
  const endpoint = process.env.BENCH_UPSTREAM_ENDPOINT;
  if (!endpoint) return async (keys) => keys.map((key) => statuses.get(key) ?? false);
  const api = createAlibabaSessionApi({
    endpoint,
    connectTimeoutMs: 2000,
    readTimeoutMs: 5000,
    credential: { accessKeyId: process.env.BENCH_UPSTREAM_KEY_ID ?? '', accessKeySecret: process.env.BENCH_UPSTREAM_KEY_SECRET ?? '' },
  });
  return async (keys) => {
    // Keys are `${instanceId}\n${clientId}`; the scenario asks one instance per request.
    const [instanceId] = keys[0].split('\n');
    const clientIds = keys.map((key) => key.slice(instanceId.length + 1));
    const chunks = Array.from({ length: Math.ceil(clientIds.length / 10) }, (_, i) => clientIds.slice(10 * i, 10 * i + 10));
    const answers = await Promise.all(chunks.map((ids) => api.batchQuerySessions(instanceId, ids)));
    return clientIds.map((clientId, i) => answers[Math.floor(i / 10)].statuses.get(clientId) ?? new Error(`no answer for ${clientId}`));
  };
}

main().catch(failStart('bare Apollo baseline'));
