import { runLoad, warmUp, type LoadResult } from '../lib/load';
import { stopAll } from '../lib/processes';
import { demoIds, devicesBody } from '../lib/queries';
import type { BenchContext, Goal, ScenarioReport } from '../lib/report';
import { table } from '../lib/report';
import { fmt, median } from '../lib/stats';
import { startBareBaseline, startLocalHost, startService, takeBatchCalls, type ServiceProcess } from '../lib/topology';

/** Closed loop: each connection has one request in flight. */
const CONNECTIONS = 32;
const SHAPES = [10, 100] as const;

/** One measured round: the client's view, and the CPU time the server spent per request. */
interface Round extends LoadResult {
  cpuMicrosPerRequest: number;
}

interface OverheadFigures {
  devices: number;
  ours: Round[];
  bare: Round[];
}

/**
 * Layer overhead: all-cached 10- and 100-device `devices { clientId online }` queries against the
 * service (cache TTL one hour, warmed first, so no upstream call is made) and against the bare
 * Apollo Server 5 + DataLoader baseline serving the same answers from a Map, alternating A/B.
 */
export async function layerOverhead(ctx: BenchContext): Promise<ScenarioReport> {
  const figures = await measureOverhead(ctx);
  const goals: Goal[] = [];
  const rows = figures.map(({ devices, ours, bare }) => {
    const oursRps = median(ours.map((r) => r.requestsPerSecond));
    const bareRps = median(bare.map((r) => r.requestsPerSecond));
    const ratio = oursRps / bareRps;
    goals.push({
      goal: `All-cached ${devices}-device query: throughput ≥ 1.0× the bare Apollo + DataLoader baseline`,
      measured: `${fmt(ratio, 2)}× (${fmt(oursRps)} vs ${fmt(bareRps)} requests/s)`,
      met: ratio >= 1,
    });
    const lat = (results: Round[], key: 'p50' | 'p99') => fmt(median(results.map((r) => r.latencyMs[key])), 0);
    const [oursCpu, bareCpu] = [median(ours.map((r) => r.cpuMicrosPerRequest)), median(bare.map((r) => r.cpuMicrosPerRequest))];
    return [
      `${devices} devices`,
      fmt(oursRps),
      fmt(bareRps),
      `**${fmt(ratio, 2)}×**`,
      `${lat(ours, 'p50')} / ${lat(ours, 'p99')}`,
      `${lat(bare, 'p50')} / ${lat(bare, 'p99')}`,
      `${fmt(oursCpu)} / ${fmt(bareCpu)} (${fmt(bareCpu / oursCpu, 2)}×)`,
      `${ours.map((r) => fmt(r.requestsPerSecond)).join(', ')} · ${bare.map((r) => fmt(r.requestsPerSecond)).join(', ')}`,
    ];
  });
  return {
    title: 'Layer overhead: all-cached queries against a bare Apollo Server + DataLoader',
    goals,
    markdown: [
      `Query \`devices(clientIds: $ids) { clientId online }\` with 10 and 100 Client IDs (\`GID_demo@@@device-1…N\`; 50 of them are real MQTT clients online), ` +
        `posted as JSON with variables. **Ours**: the service (\`PRESENCE_CACHE_TTL_MS=3600000\`, cache warmed by one request ` +
        `first; no upstream call is made while measuring, checked from the emulator's log). **Baseline**: ` +
        '`bench/baseline/bare-apollo.ts`, Apollo Server 5 `startStandaloneServer` with a per-request DataLoader reading ' +
        'the same statuses from a `Map`, same schema shape, same answers (checked before measuring).',
      '',
      `autocannon, ${CONNECTIONS} connections, closed loop; ${ctx.rounds} rounds of ${ctx.roundSeconds} s per server, ` +
        'alternating A/B (the order flips every round) after a 2 s warm-up of each; medians reported.',
      '',
      table(
        [
          'query',
          'ours req/s',
          'baseline req/s',
          'ratio',
          'ours p50 / p99 ms',
          'baseline p50 / p99 ms',
          'server CPU µs per request, ours / baseline (ratio)',
          'rounds req/s (ours · baseline)',
        ],
        rows,
      ),
      '',
      'Server CPU per request (user + system time of the server process over a round, divided by the requests it ' +
        'answered) is the steadier figure when other work shares the machine: a busy neighbour lowers requests/s but ' +
        'hardly changes the CPU a request costs. Its ratio (baseline / ours) approximates the throughput ratio a ' +
        'quiet machine would show, where each server is bound by its one core.',
    ].join('\n'),
  };
}

/** The A/B rounds: both servers up at once, loaded one at a time, so each has the machine to itself. */
async function measureOverhead(ctx: BenchContext): Promise<OverheadFigures[]> {
  const local = await startLocalHost({ demoDevices: 50 });
  let ours: ServiceProcess | undefined;
  let bare: ServiceProcess | undefined;
  try {
    ours = await startService(local, { PRESENCE_CACHE_TTL_MS: '3600000' });
    bare = await startBareBaseline(local.info.instanceId, local.info.demoDevices);
    const figures: OverheadFigures[] = [];
    for (const devices of SHAPES) {
      const body = devicesBody(demoIds(devices));
      await assertSameAnswers(ours.info.url, bare.info.url, body);
      await takeBatchCalls(local);
      ctx.log(`layer overhead: ${devices} devices, warming up`);
      await warmUp(ours.info.url, body);
      await warmUp(bare.info.url, body);
      const result: OverheadFigures = { devices, ours: [], bare: [] };
      for (let round = 0; round < ctx.rounds; round++) {
        const order = round % 2 === 0 ? (['ours', 'bare'] as const) : (['bare', 'ours'] as const);
        for (const which of order) {
          const server = which === 'ours' ? ours : bare;
          const before = await server.stats();
          const run = await runLoad({ url: server.info.url, connections: CONNECTIONS, durationSeconds: ctx.roundSeconds, body });
          const after = await server.stats();
          if (run.non2xx + run.errors > 0) throw new Error(`${which}: ${run.non2xx} non-2xx and ${run.errors} errors while all-cached`);
          result[which].push({ ...run, cpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / run.completed });
          ctx.log(`layer overhead: ${devices} devices, round ${round + 1}, ${which}: ${fmt(run.requestsPerSecond)} req/s`);
        }
      }
      const upstream = await takeBatchCalls(local);
      if (upstream.length > 0) throw new Error(`the all-cached runs made ${upstream.length} upstream calls`);
      figures.push(result);
    }
    return figures;
  } finally {
    await stopAll([ours, bare, local]);
  }
}

async function assertSameAnswers(oursUrl: string, bareUrl: string, body: string): Promise<void> {
  const ask = async (url: string) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return (await response.json()) as unknown;
  };
  const [ours, bare] = [JSON.stringify(await ask(oursUrl)), JSON.stringify(await ask(bareUrl))];
  if (ours !== bare) throw new Error(`the service and the baseline answer differently:\n${ours.slice(0, 300)}\n${bare.slice(0, 300)}`);
}
