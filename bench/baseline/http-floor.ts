/**
 * The floor under any HTTP API on this machine: a bare `node:http` server that reads the POSTed JSON
 * and answers each Client ID of its `variables.ids` offline, in the shape a `devices` query answers,
 * with no GraphQL, no lookup and no framework. What a client waits for it is the HTTP hop alone
 * (both processes waking, the loopback, parsing and writing the same amount of JSON), which the
 * uncached-latency scenario sets beside the service's share. BENCH_ONLINE_IDS (comma-separated) answer
 * online, so the layer-overhead scenario's floor answers exactly what the GraphQL servers answer.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { failStart, serveCommands } from '../lib/child';

async function main(): Promise<void> {
  const online = new Set((process.env.BENCH_ONLINE_IDS ?? '').split(',').filter(Boolean));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const { variables } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables?: { ids?: string[] } };
      const body = JSON.stringify({ data: { devices: (variables?.ids ?? []).map((clientId) => ({ clientId, online: online.has(clientId) })) } });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  serveCommands({ url: `http://127.0.0.1:${port}/graphql` }, {}, () => new Promise((resolve) => server.close(() => resolve())));
}

main().catch(failStart('HTTP floor'));
