import { runLoad, type LoadResult } from '../lib/load';
import { stopAll } from '../lib/processes';
import { devicesBody, FreshIds } from '../lib/queries';
import type { BenchContext, Goal, ScenarioReport } from '../lib/report';
import { table } from '../lib/report';
import { fmt } from '../lib/stats';
import { analyseCalls, formatCodes, type UpstreamFigures } from '../lib/upstream-log';
import { quiesce, startLocalHost, startService, takeBatchCalls, type ServiceProcess } from '../lib/topology';

const CONCURRENCY = [50, 200] as const;
const GOAL_IDS_PER_CALL = 9.5;
const RAMP_MS = 1000;
const TAIL_MS = 500;

interface PackingRun {
  connections: number;
  packing: 'on' | 'off';
  upstream: UpstreamFigures;
  client: LoadResult;
}

/**
 * Mean Client IDs per upstream call under 50 and 200 concurrent small requests (1–3 IDs never asked
 * before, cache off), with cross-request packing on (the default spacing of partial calls) and off
 * (UPSTREAM_PARTIAL_BATCH_INTERVAL_MS=0: a partial call goes as soon as the budget grants one).
 */
export async function packing(ctx: BenchContext): Promise<ScenarioReport> {
  const local = await startLocalHost();
  let on: ServiceProcess | undefined;
  let off: ServiceProcess | undefined;
  const runs: PackingRun[] = [];
  try {
    await local.command('setFaults', { latencyMs: ctx.rttMs });
    on = await startService(local, { PRESENCE_CACHE_TTL_MS: '0' }, { name: 'service, packing on' });
    off = await startService(local, { PRESENCE_CACHE_TTL_MS: '0', UPSTREAM_PARTIAL_BATCH_INTERVAL_MS: '0' }, { name: 'service, packing off' });
    for (const connections of CONCURRENCY) {
      for (const [variant, service] of [['on', on], ['off', off]] as const) {
        // The emulator's 100/s window must be empty of the previous run's calls (the other service has a budget of its own).
        await quiesce(local);
        const fresh = new FreshIds(`pack${connections}${variant}`);
        const startedAt = Date.now();
        const client = await runLoad({
          url: service.info.url,
          connections,
          durationSeconds: ctx.packingSeconds,
          body: () => devicesBody(fresh.take(1 + Math.floor(Math.random() * 3))),
          countErrorCodes: true,
        });
        const endedAt = startedAt + ctx.packingSeconds * 1000;
        const upstream = analyseCalls(await takeBatchCalls(local), startedAt + RAMP_MS, endedAt - TAIL_MS);
        runs.push({ connections, packing: variant, upstream, client });
        ctx.log(`packing ${variant}, ${connections} concurrent: ${fmt(upstream.meanIdsPerCall, 2)} IDs per call`);
      }
    }
  } finally {
    await stopAll([on, off, local]);
  }

  const goals: Goal[] = runs
    .filter((run) => run.packing === 'on')
    .map(({ connections, upstream }) => ({
      goal: `≥ ${GOAL_IDS_PER_CALL} IDs per call with ≥ 10 distinct uncached IDs pending (${connections} concurrent small requests, packing on)`,
      measured: `${fmt(upstream.meanIdsPerCall, 2)} IDs per call`,
      met: upstream.meanIdsPerCall >= GOAL_IDS_PER_CALL,
    }));
  return {
    title: 'Packing: IDs per upstream call under many small concurrent requests',
    goals,
    markdown: [
      'Closed loop: 50, then 200 autocannon connections, each request a `devices` query of 1–3 Client IDs never ' +
        `asked before (mean 2, so 100 and 400 distinct uncached IDs are pending at any time), cache off, ${ctx.packingSeconds} s ` +
        `per run, the emulator adding ${ctx.rttMs} ms to every call. ` +
        '**Packing on**: the default rule of `src/presence/presence-dispatcher.ts` (while partial calls follow each ' +
        'other, the next one waits a little, collecting IDs from every request). **Packing off** (the baseline): ' +
        '`UPSTREAM_PARTIAL_BATCH_INTERVAL_MS=0`, every partial call goes as soon as the budget grants it. Both run in the ' +
        `same bench run, one after the other, each once the emulator has been idle for a second. Figures from the ` +
        `emulator's log over whole seconds, the first ${RAMP_MS / 1000} s left out.`,
      '',
      table(
        ['concurrent requests', 'packing', 'IDs per call', 'calls/s', 'lookups/s', 'max calls in any rolling 1 s', 'client p50 / p99 ms', 'requests/s', 'client error codes', 'refused by the emulator'],
        runs.map(({ connections, packing: variant, upstream, client }) => [
          connections,
          variant,
          `**${fmt(upstream.meanIdsPerCall, 2)}**`,
          fmt(upstream.callsPerSecond, 1),
          fmt(upstream.lookupsPerSecond),
          upstream.maxCallsInRollingSecond,
          `${fmt(client.latencyMs.p50)} / ${fmt(client.latencyMs.p99)}`,
          fmt(client.requestsPerSecond),
          formatCodes(client.errorCodes),
          formatCodes(upstream.refused),
        ]),
      ),
    ].join('\n'),
  };
}
