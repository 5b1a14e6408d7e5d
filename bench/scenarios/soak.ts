import { runLoad } from '../lib/load';
import { stopAll } from '../lib/processes';
import type { ProcessStats } from '../lib/ipc';
import { demoIds, devicesBody } from '../lib/queries';
import type { BenchContext, Goal, ScenarioReport } from '../lib/report';
import { table } from '../lib/report';
import { fmt, mib } from '../lib/stats';
import { analyseCalls, formatCodes } from '../lib/upstream-log';
import { startLocalHost, startService, takeBatchCalls } from '../lib/topology';

const FLEET = 500;
const ONLINE = 100;
const IDS_PER_REQUEST = 10;
const CONNECTIONS = 50;
const WARMUP_SECONDS = 10;
/** About a dozen samples whatever the length, never more often than every 10 s. */
const SAMPLES = 12;
const MIN_SAMPLE_EVERY_MS = 10_000;
/** Heap growth allowed between the two collected heaps: well under one byte per request over 10 minutes. */
const HEAP_GROWTH_LIMIT_BYTES = 1024 * 1024;

/**
 * Soak: a fixed request rate for `soakMs` against the service as deployed (default cache TTL), heap
 * and RSS at start and end (after a full GC, node --expose-gc), event-loop delay p99 over the run.
 * A fleet of 500 devices (100 online through real MQTT connections), each request 10 random ones.
 */
export async function soak(ctx: BenchContext): Promise<ScenarioReport> {
  const local = await startLocalHost({ demoDevices: ONLINE });
  const service = await startService(local, {}, { execArgv: ['--expose-gc'] }).catch(async (error: unknown) => {
    await local.stop();
    throw error;
  });
  const fleet = demoIds(FLEET);
  const body = () => devicesBody(Array.from({ length: IDS_PER_REQUEST }, () => fleet[Math.floor(Math.random() * FLEET)]));
  const load = (seconds: number) =>
    runLoad({ url: service.info.url, connections: CONNECTIONS, durationSeconds: seconds, ratePerSecond: ctx.soakRatePerSecond, body, countErrorCodes: true });
  try {
    ctx.log(`soak: warming up ${WARMUP_SECONDS} s`);
    await load(WARMUP_SECONDS);
    const start = await service.stats({ gc: true, resetLoopDelay: true });
    await takeBatchCalls(local);
    const seconds = Math.round(ctx.soakMs / 1000);
    ctx.log(`soak: ${seconds} s at ${ctx.soakRatePerSecond} requests/s`);
    const samples: Array<{ atSeconds: number; stats: ProcessStats }> = [];
    const sampleEveryMs = Math.max(MIN_SAMPLE_EVERY_MS, Math.round(ctx.soakMs / SAMPLES / 1000) * 1000);
    const startedAt = Date.now();
    const sampler = setInterval(() => {
      service.stats().then((stats) => samples.push({ atSeconds: (Date.now() - startedAt) / 1000, stats }), () => undefined);
    }, sampleEveryMs);
    const result = await load(seconds).finally(() => clearInterval(sampler));
    const endLoop = await service.stats();
    const end = await service.stats({ gc: true });
    const upstream = analyseCalls(await takeBatchCalls(local), startedAt, startedAt + seconds * 1000);

    const growth = end.heapUsedBytes - start.heapUsedBytes;
    const failures = result.non2xx + result.errors + result.responsesWithErrors;
    const goals: Goal[] = [
      {
        goal: `No heap growth over the soak (${seconds} s${seconds < 600 ? '; shortened: the default is 10 minutes' : ''})`,
        measured: `${growth >= 0 ? '+' : ''}${fmt(growth / 1024, 0)} KiB (${mib(start.heapUsedBytes)} → ${mib(end.heapUsedBytes)})`,
        met: growth < HEAP_GROWTH_LIMIT_BYTES,
      },
      {
        goal: `Event-loop delay p99 < 20 ms at ${fmt(ctx.soakRatePerSecond)} requests/s`,
        measured: `${fmt(endLoop.loopDelayMs.p99, 1)} ms at ${fmt(result.requestsPerSecond)} requests/s, ${failures} failed`,
        met: endLoop.loopDelayMs.p99 < 20 && result.requestsPerSecond >= 0.97 * ctx.soakRatePerSecond && failures === 0,
      },
    ];
    return {
      title: `Soak: ${seconds} s at ${fmt(ctx.soakRatePerSecond)} requests/s`,
      goals,
      markdown: [
        `Open loop, ${fmt(ctx.soakRatePerSecond)} requests/s over ${CONNECTIONS} connections for ${seconds} s, after a ` +
          `${WARMUP_SECONDS} s warm-up at the same rate. Each request asks for ${IDS_PER_REQUEST} random devices of a fleet of ` +
          `${FLEET} (\`GID_demo@@@device-1…${FLEET}\`, ${ONLINE} of them real MQTT clients online); the service runs as ` +
          'deployed (default `PRESENCE_CACHE_TTL_MS`, 1 s), so it keeps refreshing statuses from the upstream. Heap and RSS ' +
          'after a full GC (`node --expose-gc`) at start and end; event-loop delay from `perf_hooks.monitorEventLoopDelay` ' +
          `(a 10 ms timer; the delay is how late it fired) over the whole run, in the service process. Client latency ` +
          'includes the wait of lookups whose status expired for the next upstream call, which packing spaces out. ' +
          `**Baseline**: the start figures; a heap growth under ` +
          `${mib(HEAP_GROWTH_LIMIT_BYTES)} counts as none.`,
        '',
        table(
          ['', 'start', 'end'],
          [
            ['heap used (after GC)', mib(start.heapUsedBytes), mib(end.heapUsedBytes)],
            ['RSS', mib(start.rssBytes), mib(end.rssBytes)],
          ],
        ),
        '',
        table(
          ['requests/s', 'client p50 / p99 / max ms', 'event-loop delay p50 / p99 / max ms', 'failed requests', 'upstream calls/s', 'IDs per call', 'max calls in any rolling 1 s', 'refused by the emulator'],
          [
            [
              fmt(result.requestsPerSecond),
              `${fmt(result.latencyMs.p50)} / ${fmt(result.latencyMs.p99)} / ${fmt(result.latencyMs.max)}`,
              `${fmt(endLoop.loopDelayMs.p50, 1)} / **${fmt(endLoop.loopDelayMs.p99, 1)}** / ${fmt(endLoop.loopDelayMs.max, 1)}`,
              `${failures} (${formatCodes(result.errorCodes)})`,
              fmt(upstream.callsPerSecond, 1),
              fmt(upstream.meanIdsPerCall, 2),
              upstream.maxCallsInRollingSecond,
              formatCodes(upstream.refused),
            ],
          ],
        ),
        '',
        'RSS follows the collection cycle (V8 grows and gives back its young generation), so two points of it say ' +
          'little; the samples below show whether it trends. ' +
          `Heap used / RSS (without forcing a GC) every ${sampleEveryMs / 1000} s: ` +
          (samples.map(({ atSeconds, stats }) => `${fmt(atSeconds)} s ${mib(stats.heapUsedBytes)} / ${mib(stats.rssBytes)}`).join(', ') ||
            'no samples'),
      ].join('\n'),
    };
  } finally {
    await stopAll([service, local]);
  }
}
