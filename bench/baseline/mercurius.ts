/**
 * The fastest-Node-GraphQL baseline of the layer-overhead scenario: Mercurius 16 on fastify 5, the
 * same schema shape as the bare Apollo baseline (`devices(clientIds) { clientId online }`), `online`
 * answered by a Mercurius loader (its per-request, batched and cached DataLoader equivalent) from the
 * same Map in memory. With BENCH_JIT=1, graphql-jit compiles each query after its first run
 * (`jit: 1`), as a team choosing Mercurius for speed would run it; with BENCH_JIT=0 it executes with
 * graphql-js. No auth, no limits, no metrics: what the framework itself costs.
 *
 * Env: BENCH_INSTANCE_ID, BENCH_ONLINE_IDS (comma-separated Client IDs online), BENCH_JIT (1 or 0),
 * PORT (default: a free one). Started by hand, it prints its URL.
 */
import Fastify from 'fastify';
import mercurius from 'mercurius';
import { failStart, serveCommands } from '../lib/child';
import { DEVICES_TYPE_DEFS, deviceQueryResolvers, onlineStatuses, type Device } from './devices-schema';

async function main(): Promise<void> {
  const defaultInstanceId = process.env.BENCH_INSTANCE_ID ?? 'mqtt-local-dev';
  const jit = process.env.BENCH_JIT === '1' ? 1 : 0;
  const statuses = onlineStatuses(defaultInstanceId);

  const app = Fastify({ logger: false });
  await app.register(mercurius, {
    schema: DEVICES_TYPE_DEFS,
    jit,
    resolvers: { Query: deviceQueryResolvers(defaultInstanceId) },
    loaders: {
      Device: {
        // One call per request for every device's `online`, de-duplicated by Mercurius's loader cache.
        online: async (queries: Array<{ obj: Device }>) => queries.map(({ obj }) => statuses.get(`${obj.instanceId}\n${obj.clientId}`) ?? false),
      },
    },
  });
  const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
  const url = `${address}/graphql`;
  serveCommands({ url }, {}, () => app.close());
  if (!process.send) process.stdout.write(`Mercurius baseline (jit ${jit}) at ${url}\n`);
}

main().catch(failStart('Mercurius baseline'));
