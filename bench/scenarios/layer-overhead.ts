import { runLoad, warmUp, type LoadResult } from '../lib/load';
import { stopAll } from '../lib/processes';
import { demoIds, devicesBody } from '../lib/queries';
import type { BenchContext, Goal, ScenarioReport } from '../lib/report';
import { table } from '../lib/report';
import { fmt, median } from '../lib/stats';
import {
  DEPLOYED_OPERATIONS_PER_SECOND,
  startBareBaseline,
  startDeployedService,
  startHttpFloor,
  startLocalHost,
  startMercuriusBaseline,
  takeBatchCalls,
  type ServiceProcess,
} from '../lib/topology';

/** Closed loop: each connection has one request in flight. */
const CONNECTIONS = 32;
const SHAPES = [10, 100] as const;

/** One measured round: the client's view, and the CPU time the server spent per request. */
interface Round extends LoadResult {
  cpuMicrosPerRequest: number;
}

type ServerId = 'ours' | 'mercuriusJit' | 'mercurius' | 'bare' | 'floor';
const SERVERS: ReadonlyArray<{ id: ServerId; label: string }> = [
  { id: 'ours', label: 'this service (production, API key, limits and metrics on)' },
  { id: 'mercuriusJit', label: 'Mercurius 16 + loaders + graphql-jit' },
  { id: 'mercurius', label: 'Mercurius 16 + loaders, no jit' },
  { id: 'bare', label: 'bare Apollo Server 5 + DataLoader' },
  { id: 'floor', label: 'raw `node:http`, same JSON (HTTP floor)' },
];

type OverheadFigures = { devices: number } & Record<ServerId, Round[]>;

/**
 * Layer overhead: all-cached 10- and 100-device `devices { clientId online }` queries against the
 * service as deployed (cache TTL one hour, warmed first, so no upstream call is made) and against
 * Mercurius with and without graphql-jit, a bare Apollo Server 5 + DataLoader, and the raw HTTP floor,
 * each serving the same answers from a Map, in rounds whose order rotates.
 */
export async function layerOverhead(ctx: BenchContext): Promise<ScenarioReport> {
  const figures = await measureOverhead(ctx);
  const goals: Goal[] = [];
  const rps = (rounds: Round[]) => median(rounds.map((r) => r.requestsPerSecond));
  const cpu = (rounds: Round[]) => median(rounds.map((r) => r.cpuMicrosPerRequest));
  const lat = (rounds: Round[], key: 'p50' | 'p99') => fmt(median(rounds.map((r) => r.latencyMs[key])), 1);
  const rows: string[][] = [];
  for (const shape of figures) {
    const ours = shape.ours;
    for (const [other, label, floor] of [
      ['mercuriusJit', 'Mercurius with graphql-jit', 1],
      ['mercurius', 'Mercurius without jit', 1],
      ['bare', 'the bare Apollo + DataLoader baseline', 1],
    ] as const) {
      const ratio = rps(ours) / rps(shape[other]);
      goals.push({
        goal: `All-cached ${shape.devices}-device query: throughput ≥ ${fmt(floor, 1)}× ${label}`,
        measured: `${fmt(ratio, 2)}× (${fmt(rps(ours))} vs ${fmt(rps(shape[other]))} requests/s); CPU per request ${fmt(cpu(shape[other]) / cpu(ours), 2)}× (${fmt(cpu(ours))} vs ${fmt(cpu(shape[other]))} µs)`,
        met: ratio >= floor,
      });
    }
    for (const { id, label } of SERVERS) {
      const rounds = shape[id];
      rows.push([
        `${shape.devices} devices`,
        label,
        fmt(rps(rounds)),
        id === 'ours' ? '—' : `**${fmt(rps(ours) / rps(rounds), 2)}×**`,
        fmt(cpu(rounds)),
        id === 'ours' ? '—' : `${fmt(cpu(rounds) / cpu(ours), 2)}×`,
        `${lat(rounds, 'p50')} / ${lat(rounds, 'p99')}`,
        rounds.map((r) => fmt(r.requestsPerSecond)).join(', '),
      ]);
    }
  }
  return {
    title: 'Layer overhead: all-cached queries against Mercurius, bare Apollo and the HTTP floor',
    goals,
    markdown: [
      `Query \`devices(clientIds: $ids) { clientId online }\` with 10 and 100 Client IDs (\`GID_demo@@@device-1…N\`; 50 of them are real MQTT clients online), ` +
        'posted as JSON with variables. **This service** runs as deployed: `NODE_ENV=production`, `AUTH_MODE=apikey` ' +
        '(the load carries `X-API-Key`; the key\'s scope is the local instance and the `GID_demo` group, so every ID is ' +
        'scope-checked), every limit and the metrics on, `PRESENCE_CACHE_TTL_MS=3600000`, the cache warmed by one request ' +
        'first; no upstream call is made while measuring, checked from the emulator\'s log. The benchmark\'s caller gets a ' +
        `share that fits the load through the settings a deployment would use: \`CALLER_OPERATIONS_PER_SECOND=${DEPLOYED_OPERATIONS_PER_SECOND}\` ` +
        '(the default 50 would refuse almost every request of a closed-loop load), `CALLER_LOOKUPS_PER_SECOND` left at its ' +
        'default 250 (cached answers do not spend it). **Baselines**, each serving the same statuses from a `Map`: ' +
        '`bench/baseline/mercurius.ts` (Mercurius 16 on fastify 5, a Mercurius loader for `online`, with `jit: 1` and ' +
        'without), `bench/baseline/bare-apollo.ts` (Apollo Server 5 `startStandaloneServer`, a DataLoader per request), ' +
        '`bench/baseline/http-floor.ts` (raw `node:http` writing the same JSON, no GraphQL). Same schema shape; every ' +
        'server\'s answer is compared byte for byte (after JSON parsing) with the service\'s before measuring.',
      '',
      `autocannon, ${CONNECTIONS} connections, closed loop; ${ctx.rounds} rounds of ${ctx.roundSeconds} s per server, ` +
        'the servers loaded one at a time in an order that rotates every round, after a 2 s warm-up of each; medians reported.',
      '',
      table(
        ['query', 'server', 'req/s', 'this service against it (req/s)', 'server CPU µs per request', 'against it (CPU)', 'p50 / p99 ms', 'rounds req/s'],
        rows,
      ),
      '',
      'Server CPU per request (user + system time of the server process over a round, divided by the requests it ' +
        'answered) is the steadier figure when other work shares the machine: a busy neighbour lowers requests/s but ' +
        'hardly changes the CPU a request costs. Its ratio (theirs / ours) approximates the throughput ratio a ' +
        'quiet machine would show, where each server is bound by its one core.',
    ].join('\n'),
  };
}

/** The rounds: every server up at once, loaded one at a time, so each has the machine to itself. */
async function measureOverhead(ctx: BenchContext): Promise<OverheadFigures[]> {
  const local = await startLocalHost({ demoDevices: 50 });
  const servers: Partial<Record<ServerId, ServiceProcess>> = {};
  try {
    const deployed = await startDeployedService(local);
    servers.ours = deployed;
    const headers = deployed.headers;
    const { instanceId, demoDevices } = local.info;
    servers.mercuriusJit = await startMercuriusBaseline(instanceId, demoDevices, { jit: true });
    servers.mercurius = await startMercuriusBaseline(instanceId, demoDevices, { jit: false });
    servers.bare = await startBareBaseline(instanceId, demoDevices);
    servers.floor = await startHttpFloor(demoDevices);
    const figures: OverheadFigures[] = [];
    for (const devices of SHAPES) {
      const body = devicesBody(demoIds(devices));
      const expected = await answerOf(servers.ours.info.url, body, headers);
      for (const { id } of SERVERS) {
        if (id !== 'ours') await assertSameAnswer(id, expected, await answerOf(servers[id]!.info.url, body));
      }
      await takeBatchCalls(local);
      ctx.log(`layer overhead: ${devices} devices, warming up`);
      for (const { id } of SERVERS) await warmUp(servers[id]!.info.url, body, 2, id === 'ours' ? headers : undefined);
      const result = { devices, ours: [], mercuriusJit: [], mercurius: [], bare: [], floor: [] } as OverheadFigures;
      for (let round = 0; round < ctx.rounds; round++) {
        // Rotated every round, and reversed every other one: no server always follows the same one.
        const rotated = SERVERS.map((_, i) => SERVERS[(i + round) % SERVERS.length].id);
        const order = round % 2 === 0 ? rotated : rotated.reverse();
        for (const id of order) {
          const server = servers[id]!;
          const before = await server.stats();
          const run = await runLoad({ url: server.info.url, connections: CONNECTIONS, durationSeconds: ctx.roundSeconds, body, headers: id === 'ours' ? headers : undefined });
          const after = await server.stats();
          if (run.non2xx + run.errors > 0) throw new Error(`${id}: ${run.non2xx} non-2xx and ${run.errors} errors while all-cached`);
          result[id].push({ ...run, cpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / run.completed });
          ctx.log(`layer overhead: ${devices} devices, round ${round + 1}, ${id}: ${fmt(run.requestsPerSecond)} req/s, ${fmt(result[id].at(-1)!.cpuMicrosPerRequest)} µs CPU/request`);
        }
      }
      const upstream = await takeBatchCalls(local);
      if (upstream.length > 0) throw new Error(`the all-cached runs made ${upstream.length} upstream calls`);
      figures.push(result);
    }
    return figures;
  } finally {
    await stopAll([...Object.values(servers), local]);
  }
}

async function answerOf(url: string, body: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return JSON.stringify((await response.json()) as unknown);
}

function assertSameAnswer(id: ServerId, expected: string, actual: string): void {
  if (!expected.includes('"online":true')) throw new Error(`the service answered no device online: ${expected.slice(0, 300)}`);
  if (actual !== expected) throw new Error(`the service and ${id} answer differently:\n${expected.slice(0, 300)}\n${actual.slice(0, 300)}`);
}
