import { performance } from 'node:perf_hooks';
import { createAlibabaSessionApi } from '../../src/upstream/alibaba-session-api';
import { stopAll, type ServerProcess } from '../lib/processes';
import { keepAliveJsonClient } from '../lib/keep-alive-client';
import { devicesBody, FreshIds } from '../lib/queries';
import type { BenchContext, Goal, ScenarioReport } from '../lib/report';
import { table } from '../lib/report';
import { fmt, percentile, sleep } from '../lib/stats';
import { startBareBaseline, startHttpFloor, startLocalHost, startService } from '../lib/topology';

const SAMPLES = 30;
const WARMUP_SAMPLES = 5;
/**
 * Before any measurement, every path runs this many times back to back (no added round trip, no
 * pause), so what is timed is code V8 has optimised, as in a service that has been answering for a
 * while, not one that has served five queries. The same for the service, the baselines and the
 * direct calls.
 */
const JIT_WARMUP_SAMPLES = 200;
/**
 * The account limits of this scenario, the emulator's and the service's: high enough that the
 * warm-up, about 3,000 calls in a few seconds, is never throttled. The timed samples stay near 50
 * calls/s (PACING_MS), so neither limit is ever near, as with the real 100/s.
 */
const WARMUP_QPS = '10000';
/**
 * Before each measurement: a sample costs 30 calls of the account's 100/s (the query, the direct
 * calls, the bare baseline's query), so about 50 per second stays well inside the emulator's limit.
 */
const PACING_MS = 125;

interface Series {
  query: number[];
  direct: number[];
  /** The same query again, answered from the cache: what the HTTP hop and the GraphQL layer cost alone. */
  cached: number[];
  /** The same uncached query to a bare Apollo Server + DataLoader making the same calls. */
  bare: number[];
  /** A 100-device answer from node:http with no GraphQL and no lookup: the HTTP hop alone. */
  floor: number[];
}

/**
 * Latency of one uncached 100-device query against an emulator with a fixed added round trip, and its
 * baselines in the same run, each after the same pause: the same ten 10-ID BatchQuerySessionByClientIds
 * calls made directly, all in parallel, with the same SDK client the service uses
 * (`createAlibabaSessionApi`), from the process that times the query (the floor of the query, one
 * parallel round trip); the simplest server that could answer it (bare Apollo + DataLoader making
 * the same calls); and the HTTP hop alone (a node:http server answering the same JSON).
 */
export async function uncachedLatency(ctx: BenchContext): Promise<ScenarioReport> {
  const local = await startLocalHost({ env: { LOCAL_BATCH_QPS: WARMUP_QPS } });
  const servers: Array<ServerProcess<unknown>> = [local];
  try {
    // Fresh Client IDs are never in the cache, whatever its TTL; one long enough lets the repeated query hit it.
    // The partial-call spacing pinned to its 100/s default: it follows UPSTREAM_BATCH_QPS otherwise.
    const service = await startService(local, { PRESENCE_CACHE_TTL_MS: '60000', UPSTREAM_BATCH_QPS: WARMUP_QPS, UPSTREAM_PARTIAL_BATCH_INTERVAL_MS: '10' });
    servers.push(service);
    const bare = await startBareBaseline(local.info.instanceId, [], { upstream: local });
    servers.push(bare);
    const floor = await startHttpFloor();
    servers.push(floor);
    const api = createAlibabaSessionApi({
      endpoint: local.info.endpoint,
      connectTimeoutMs: 2000,
      readTimeoutMs: 5000,
      credential: { accessKeyId: local.info.accessKeyId, accessKeySecret: local.info.accessKeySecret },
    });
    const clients = [service, bare, floor].map((server) => keepAliveJsonClient(server.info.url));
    const [serviceClient, bareClient, floorClient] = clients;
    const fresh = new FreshIds('latency');
    // Every measurement comes after a pause (none in the JIT warm-up), except the cached query, asked again at once.
    let pacingMs = PACING_MS;
    const measure = async (rttMs: number, samples = SAMPLES, warmups = WARMUP_SAMPLES): Promise<Series> => {
      await local.command('setFaults', { latencyMs: rttMs });
      const series: Series = { query: [], direct: [], cached: [], bare: [], floor: [] };
      const ask = async (client: typeof serviceClient, body: string, pauseAfter = true): Promise<number> => {
        const start = performance.now();
        const answer = (await client.post(body)) as { data?: { devices?: unknown[] }; errors?: unknown[] };
        const ms = performance.now() - start;
        if (answer.errors || answer.data?.devices?.length !== 100) throw new Error(`100-device query failed: ${JSON.stringify(answer).slice(0, 300)}`);
        if (pauseAfter) await sleep(pacingMs);
        return ms;
      };
      const direct = async (): Promise<number> => {
        const chunks = Array.from({ length: 10 }, () => fresh.take(10));
        const start = performance.now();
        await Promise.all(chunks.map((ids) => api.batchQuerySessions(local.info.instanceId, ids)));
        const ms = performance.now() - start;
        await sleep(pacingMs);
        return ms;
      };
      await sleep(pacingMs);
      for (let i = 0; i < warmups + samples; i++) {
        const body = devicesBody(fresh.take(100));
        const queryMs = await ask(serviceClient, body, false);
        const cachedMs = await ask(serviceClient, body);
        const directMs = await direct();
        const bareMs = await ask(bareClient, devicesBody(fresh.take(100)));
        const floorMs = await ask(floorClient, body);
        if (i >= warmups) {
          series.query.push(queryMs);
          series.direct.push(directMs);
          series.cached.push(cachedMs);
          series.bare.push(bareMs);
          series.floor.push(floorMs);
        }
      }
      return series;
    };
    ctx.log(`uncached latency: JIT warm-up, ${JIT_WARMUP_SAMPLES} samples of each`);
    pacingMs = 0;
    await measure(0, 0, JIT_WARMUP_SAMPLES);
    pacingMs = PACING_MS;
    ctx.log(`uncached latency: emulator round trip +${ctx.rttMs} ms`);
    const withRtt = await measure(ctx.rttMs);
    ctx.log('uncached latency: emulator round trip +0 ms');
    const noRtt = await measure(0);
    for (const client of clients) client.close();

    const p50 = (values: number[]) => percentile(values, 50);
    const spread = (values: number[]) => `${fmt(p50(values), 2)} / ${fmt(percentile(values, 90), 2)} / ${fmt(Math.max(...values), 2)}`;
    const over = (values: number[], series: Series) => `${fmt(p50(values) - p50(series.direct), 2)} ms`;
    const row = (label: string, series: Series) => [
      label,
      spread(series.query),
      spread(series.bare),
      spread(series.direct),
      `**${over(series.query, series)}**`,
      over(series.bare, series),
      spread(series.floor),
      spread(series.cached),
    ];
    const gap = p50(withRtt.query) - p50(withRtt.direct);
    const bareGap = p50(withRtt.bare) - p50(withRtt.direct);
    const goals: Goal[] = [
      {
        goal: `Uncached 100-device query within 1 ms (p50) of the upstream round trip (+${ctx.rttMs} ms emulator)`,
        measured:
          `+${fmt(gap, 2)} ms (${fmt(p50(withRtt.query), 2)} vs ${fmt(p50(withRtt.direct), 2)} ms); bare Apollo + DataLoader +${fmt(bareGap, 2)} ms; ` +
          `the HTTP hop alone (no GraphQL, no lookup) ${fmt(p50(withRtt.floor), 2)} ms`,
        met: gap <= 1,
      },
      {
        goal: `Uncached 100-device query: overhead over the ten direct calls no larger than bare Apollo + DataLoader's (p50, +${ctx.rttMs} ms emulator)`,
        measured: `+${fmt(gap, 2)} ms against bare Apollo's +${fmt(bareGap, 2)} ms`,
        met: gap <= bareGap,
      },
    ];
    return {
      title: 'Latency of one uncached 100-device query',
      goals,
      markdown: [
        `One \`devices\` query of 100 Client IDs never asked before, timed by the orchestrator from the POST ` +
          `to the parsed answer (a kept-alive \`node:http\` connection: \`fetch\` alone would add about a millisecond); the emulator adds a fixed ${ctx.rttMs} ms to every call (\`setFaults({ latencyMs })\`). ` +
          'Three baselines in the same run, taking turns with it: **direct calls**, ten 10-ID `BatchQuerySessionByClientIds` calls made directly ' +
          'and all at once with the same SDK client (`createAlibabaSessionApi`), from the same process: the floor of the ' +
          'query, one parallel round trip; **bare Apollo + DataLoader**, the simplest server that could answer the query (`bench/baseline/bare-apollo.ts` ' +
          'whose loader makes the same ten calls at once, no cache, no budget); and **the HTTP hop**, a `node:http` server that answers the same ' +
          `100-device JSON with no GraphQL and no lookup (\`bench/baseline/http-floor.ts\`). First every path runs ${JIT_WARMUP_SAMPLES} times back to back with no added round trip, ` +
          'so that what is timed is code V8 has optimised, as in a process that has been serving for a while (the account limits of the emulator and the service are ' +
          `raised to ${WARMUP_QPS} calls/s for this scenario only, so that the warm-up is never throttled). Then ${SAMPLES} samples of each after ${WARMUP_SAMPLES} warm-up ones, each measurement after ` +
          `a ${PACING_MS} ms pause (so no limit is ever near, and every server starts each request idle, as a lone uncached query finds it). The +0 ms row shows the same with no added round trip.`,
        '',
        table(
          [
            'emulator round trip',
            'uncached query p50 / p90 / max ms',
            'bare Apollo + DataLoader, same calls',
            'direct calls',
            'query − direct (p50)',
            'bare − direct (p50)',
            'HTTP hop alone',
            'same query, cached',
          ],
          [row(`+${ctx.rttMs} ms`, withRtt), row('+0 ms', noRtt)],
        ),
        '',
        'The difference from the direct calls is what a GraphQL server in between adds: the client-to-server HTTP hop, parsing and ' +
          'validating the operation, the resolvers and DataLoader, and for this service the dispatcher, and serialising the answer. ' +
          'The HTTP hop alone, with both processes woken from idle as here, is what any server in between costs on this machine ' +
          'before it does anything; the last column, the same query asked again at once and answered from the cache, is the ' +
          "service's HTTP and GraphQL share without any upstream call and without the wake from idle.",
      ].join('\n'),
    };
  } finally {
    await stopAll(servers);
  }
}
