import { performance } from 'node:perf_hooks';
import { createAlibabaSessionApi } from '../../src/upstream/alibaba-session-api';
import { stopAll } from '../lib/processes';
import { keepAliveJsonClient } from '../lib/keep-alive-client';
import { devicesBody, FreshIds } from '../lib/queries';
import type { BenchContext, Goal, ScenarioReport } from '../lib/report';
import { table } from '../lib/report';
import { fmt, percentile, sleep } from '../lib/stats';
import { startLocalHost, startService } from '../lib/topology';

const SAMPLES = 30;
const WARMUP_SAMPLES = 5;
/**
 * Between two measurements: a 100-device query costs 10 calls of the account's 100/s, and so does the
 * direct baseline; 4 of each per second stays well inside the emulator's limit.
 */
const PACING_MS = 125;

interface Series {
  query: number[];
  direct: number[];
  /** The same query again, answered from the cache: what the HTTP hop and the GraphQL layer cost alone. */
  cached: number[];
}

/**
 * Latency of one uncached 100-device query against an emulator with a fixed added round trip, and its
 * baseline in the same run: the same ten 10-ID BatchQuerySessionByClientIds calls made directly, all
 * in parallel, with the same SDK client the service uses (`createAlibabaSessionApi`), from the same
 * process that times the query. The floor of the query is that one parallel round trip.
 */
export async function uncachedLatency(ctx: BenchContext): Promise<ScenarioReport> {
  const local = await startLocalHost();
  // Fresh Client IDs are never in the cache, whatever its TTL; one long enough lets the repeated query hit it.
  const service = await startService(local, { PRESENCE_CACHE_TTL_MS: '60000' }).catch(async (error: unknown) => {
    await local.stop();
    throw error;
  });
  try {
    const api = createAlibabaSessionApi({
      endpoint: local.info.endpoint,
      connectTimeoutMs: 2000,
      readTimeoutMs: 5000,
      credential: { accessKeyId: local.info.accessKeyId, accessKeySecret: local.info.accessKeySecret },
    });
    const client = keepAliveJsonClient(service.info.url);
    const fresh = new FreshIds('latency');
    const measure = async (rttMs: number): Promise<Series> => {
      await local.command('setFaults', { latencyMs: rttMs });
      const series: Series = { query: [], direct: [], cached: [] };
      const ask = async (body: string): Promise<number> => {
        const start = performance.now();
        const answer = (await client.post(body)) as { data?: { devices?: unknown[] }; errors?: unknown[] };
        const ms = performance.now() - start;
        if (answer.errors || answer.data?.devices?.length !== 100) throw new Error(`100-device query failed: ${JSON.stringify(answer).slice(0, 300)}`);
        return ms;
      };
      for (let i = 0; i < WARMUP_SAMPLES + SAMPLES; i++) {
        const body = devicesBody(fresh.take(100));
        const queryMs = await ask(body);
        const cachedMs = await ask(body);
        await sleep(PACING_MS);

        const chunks = Array.from({ length: 10 }, () => fresh.take(10));
        const start = performance.now();
        await Promise.all(chunks.map((ids) => api.batchQuerySessions(local.info.instanceId, ids)));
        const directMs = performance.now() - start;
        await sleep(PACING_MS);
        if (i >= WARMUP_SAMPLES) {
          series.query.push(queryMs);
          series.direct.push(directMs);
          series.cached.push(cachedMs);
        }
      }
      return series;
    };
    ctx.log(`uncached latency: emulator round trip +${ctx.rttMs} ms`);
    const withRtt = await measure(ctx.rttMs);
    ctx.log('uncached latency: emulator round trip +0 ms');
    const noRtt = await measure(0);
    client.close();

    const spread = (values: number[]) => `${fmt(percentile(values, 50), 2)} / ${fmt(percentile(values, 90), 2)} / ${fmt(Math.max(...values), 2)}`;
    const row = (label: string, series: Series) => [
      label,
      spread(series.query),
      spread(series.direct),
      `**${fmt(percentile(series.query, 50) - percentile(series.direct, 50), 2)} ms**`,
      spread(series.cached),
    ];
    const gap = percentile(withRtt.query, 50) - percentile(withRtt.direct, 50);
    const goals: Goal[] = [
      {
        goal: `Uncached 100-device query within 1 ms (p50) of the upstream round trip (+${ctx.rttMs} ms emulator)`,
        measured: `+${fmt(gap, 2)} ms (${fmt(percentile(withRtt.query, 50), 2)} vs ${fmt(percentile(withRtt.direct, 50), 2)} ms)`,
        met: gap <= 1,
      },
    ];
    return {
      title: 'Latency of one uncached 100-device query',
      goals,
      markdown: [
        `One \`devices\` query of 100 Client IDs never asked before (cache off), timed by the orchestrator from the POST ` +
          `to the parsed answer (a kept-alive \`node:http\` connection: \`fetch\` alone would add about a millisecond); the emulator adds a fixed ${ctx.rttMs} ms to every call (\`setFaults({ latencyMs })\`). ` +
          '**Baseline**, alternating with it in the same run: ten 10-ID `BatchQuerySessionByClientIds` calls made directly ' +
          'and all at once with the same SDK client (`createAlibabaSessionApi`), from the same process: the floor of the ' +
          `query, one parallel round trip. ${SAMPLES} samples each after ${WARMUP_SAMPLES} warm-up ones, ${PACING_MS} ms ` +
          'apart so the account budget never delays a call. The +0 ms row shows the same with no added round trip.',
        '',
        table(['emulator round trip', 'uncached query p50 / p90 / max ms', 'direct calls p50 / p90 / max ms', 'query − direct (p50)', 'same query, cached, p50 / p90 / max ms'], [
          row(`+${ctx.rttMs} ms`, withRtt),
          row('+0 ms', noRtt),
        ]),
        '',
        'The difference is what the service adds: the client-to-service HTTP hop, parsing and validating the ' +
          'operation, the resolvers and DataLoader, the dispatcher, and serialising the answer. The last column, the same ' +
          'query asked again at once and answered from the cache, is that share without any upstream call: the most ' +
          'a faster dispatcher could remove is the rest.',
      ].join('\n'),
    };
  } finally {
    await stopAll([service, local]);
  }
}
