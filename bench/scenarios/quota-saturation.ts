import Redis from 'ioredis';
import { runLoad, type LoadResult } from '../lib/load';
import { stopAll } from '../lib/processes';
import { devicesBody, FreshIds } from '../lib/queries';
import type { BenchContext, Goal, ScenarioReport } from '../lib/report';
import { table } from '../lib/report';
import { fmt } from '../lib/stats';
import { analyseCalls, formatCodes, type UpstreamFigures } from '../lib/upstream-log';
import { quiesce, startLocalHost, startService, takeBatchCalls, type ServiceProcess } from '../lib/topology';

/** Concurrent clients in all, split over the replicas. */
const CONNECTIONS = 48;
/** BatchQuerySessionByClientIds: 100 calls/s × 10 IDs per call, per account (upstream-api.md). */
const CEILING = 1000;
const GOAL = 950;
/** Left out of the steady window: the first seconds (JIT, first grants) and the tail. */
const RAMP_MS = 2000;
const TAIL_MS = 1000;

interface SaturationRun {
  replicas: number;
  upstream: UpstreamFigures;
  clients: LoadResult[];
}

/**
 * Quota saturation: sustained fresh lookups per second against the 1,000/s ceiling (100 calls × 10
 * IDs), with one replica and with two replicas sharing the budget through Redis. Cache off
 * (PRESENCE_CACHE_TTL_MS=0), every request asks for 1–19 Client IDs never asked before, closed loop.
 */
export async function quotaSaturation(ctx: BenchContext): Promise<ScenarioReport> {
  const runs: SaturationRun[] = [await saturate(ctx, 1)];
  const redisProblem = await redisUnreachable(ctx.redisUrl);
  if (redisProblem) ctx.log(`quota saturation: two replicas skipped: ${redisProblem}`);
  else runs.push(await saturate(ctx, 2));

  const goals: Goal[] = [];
  const rows = runs.map(({ replicas, upstream, clients }) => {
    const throttled = clients.reduce((n, c) => n + (c.errorCodes.UPSTREAM_THROTTLED ?? 0), 0);
    const otherCodes: Record<string, number> = {};
    for (const c of clients) for (const [code, n] of Object.entries(c.errorCodes)) if (code !== 'UPSTREAM_THROTTLED') otherCodes[code] = (otherCodes[code] ?? 0) + n;
    const failures = clients.reduce((n, c) => n + c.non2xx + c.errors, 0);
    goals.push({
      goal: `${replicas} replica${replicas > 1 ? 's' : ''}: ≥ ${GOAL} fresh lookups/s sustained per account, no UPSTREAM_THROTTLED reaching a client`,
      measured: `${fmt(upstream.lookupsPerSecond)} /s (${fmt((100 * upstream.lookupsPerSecond) / CEILING, 1)} % of ${fmt(CEILING)}), ${throttled} throttled`,
      met: upstream.lookupsPerSecond >= GOAL && throttled === 0 && failures === 0,
    });
    return [
      replicas,
      `**${fmt(upstream.lookupsPerSecond)}**`,
      `${fmt(upstream.perSecond.min)} / ${fmt(upstream.perSecond.median)} / ${fmt(upstream.perSecond.max)}`,
      fmt(upstream.callsPerSecond, 1),
      fmt(upstream.meanIdsPerCall, 2),
      upstream.maxCallsInRollingSecond,
      formatCodes(upstream.refused),
      throttled,
      `${formatCodes(otherCodes)}; ${failures} non-2xx/socket`,
      clients.map((c) => `${fmt(c.latencyMs.p50)} / ${fmt(c.latencyMs.p99)}`).join(' · '),
    ];
  });
  if (redisProblem) goals.push({ goal: '2 replicas: ≥ 950 fresh lookups/s sustained', measured: `not run: ${redisProblem}`, met: null });

  return {
    title: 'Quota saturation: sustained fresh lookups per second',
    goals,
    markdown: [
      `**Baseline**: the account's ceiling, ${fmt(CEILING)} lookups/s (BatchQuerySessionByClientIds: 100 calls/s × 10 IDs). ` +
        `${CONNECTIONS} autocannon connections in all (closed loop), each request a \`devices\` query of 1–19 Client IDs ` +
        `never asked before (mean 10), cache off (\`PRESENCE_CACHE_TTL_MS=0\`), ${ctx.saturationSeconds} s per run; the emulator ` +
        `adds ${ctx.rttMs} ms to every call, a round trip to a cloud region rather than loopback. ` +
        'Two replicas: two service processes sharing the QPS budget through Redis ' +
        `(\`REDIS_URL=${ctx.redisUrl.replace(/\/\/[^@]*@/, '//')}\`, a \`REDIS_KEY_PREFIX\` of the run's own), half the connections each, one local instance. ` +
        `Lookups are counted by the emulator (IDs in calls answered 200) over the steady window ` +
        `(the first ${RAMP_MS / 1000} s and the last ${TAIL_MS / 1000} s left out); client errors by \`extensions.code\`.`,
      '',
      table(
        [
          'replicas',
          'fresh lookups/s',
          'per second min / median / max',
          'calls/s',
          'IDs per call',
          'max calls in any rolling 1 s',
          'refused by the emulator',
          'UPSTREAM_THROTTLED at clients',
          'other errors',
          'client p50 / p99 ms',
        ],
        rows,
      ),
      '',
      'How close to the ceiling the service can get is set by `CallBudget` (`src/presence/budget.ts`): a grant counts ' +
        'against the rolling second until its call has ended, so each of the 100 slots is reused at most once per ' +
        `1 s + round trip: in the long run about ${fmt(100_000 / (1000 + ctx.rttMs) * 10)} lookups/s at a ${ctx.rttMs} ms round trip. ` +
        'A run of a few seconds can show the full 1,000/s, because the lost time adds up only slowly (one call per slot ' +
        'every 1000 / round-trip seconds).',
    ].join('\n'),
  };
}

async function saturate(ctx: BenchContext, replicas: number): Promise<SaturationRun> {
  const local = await startLocalHost();
  const services: ServiceProcess[] = [];
  try {
    const env: Record<string, string> = { PRESENCE_CACHE_TTL_MS: '0' };
    if (replicas > 1) {
      // A key prefix of this run's own: other users of this Redis (tests) neither see nor take this budget.
      const prefix = `presence-graph-bench-${Date.now().toString(36)}:`;
      Object.assign(env, { REDIS_URL: ctx.redisUrl, REDIS_KEY_PREFIX: prefix, UPSTREAM_REPLICAS: String(replicas) });
    }
    for (let i = 0; i < replicas; i++) services.push(await startService(local, env, { name: `replica ${i + 1}` }));
    await local.command('setFaults', { latencyMs: ctx.rttMs });
    await quiesce(local);
    ctx.log(`quota saturation: ${replicas} replica(s), ${ctx.saturationSeconds} s`);
    const startedAt = Date.now();
    const clients = await Promise.all(
      services.map((service, i) => {
        const fresh = new FreshIds(`sat${replicas}r${i}`);
        return runLoad({
          url: service.info.url,
          connections: CONNECTIONS / replicas,
          durationSeconds: ctx.saturationSeconds,
          body: () => devicesBody(fresh.take(1 + Math.floor(Math.random() * 19))),
          countErrorCodes: true,
        });
      }),
    );
    const endedAt = startedAt + ctx.saturationSeconds * 1000;
    const upstream = analyseCalls(await takeBatchCalls(local), startedAt + RAMP_MS, endedAt - TAIL_MS);
    ctx.log(`quota saturation: ${replicas} replica(s): ${fmt(upstream.lookupsPerSecond)} lookups/s`);
    return { replicas, upstream, clients };
  } finally {
    await stopAll([...services, local]);
  }
}

/** Why the two-replica run cannot happen, or undefined when Redis answers. */
export async function redisUnreachable(url: string): Promise<string | undefined> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return `Redis at ${url} is unreachable (${(error as Error).message})`;
  } finally {
    redis.disconnect();
  }
}
