import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, type LoadResult } from '../lib/load';
import { stopAll } from '../lib/processes';
import { FreshIds, queryBody } from '../lib/queries';
import type { BenchContext, Goal, ScenarioReport } from '../lib/report';
import { table } from '../lib/report';
import { fmt, median, sleep } from '../lib/stats';
import { formatCodes } from '../lib/upstream-log';
import { startLocalHost, startService, type LocalHost } from '../lib/topology';
import { budgetGoals, budgetMarkdown, twoReplicas, type ReplicaBudgets } from './regions-budgets';
import { redisUnreachable } from './quota-saturation';

/**
 * Several regions in two accounts (issue 18's goals): two local instances in processes of their own
 * stand for instance A (account alpha, one region) and instance B (account beta, another region),
 * each emulator counting every call against its account's 100 calls/s.
 *
 * (a) Isolation: instance B's queries while A is healthy, while A's endpoint refuses connections, and
 *     while it is blackholed (accepts, never answers: every call to it waits UPSTREAM_READ_TIMEOUT_MS),
 *     in alternating rounds; A is loaded at the same rate all along, so its failures are in flight.
 * (b) Budgets: two replicas sharing Redis load both accounts at once, closed loop, fresh IDs.
 */
const A = { instanceId: 'post-cn-regiona1', accessKeyId: 'LTAIregionakey001', secret: 'region-a-secret-bench' };
const B = { instanceId: 'post-cn-regionb1', accessKeyId: 'LTAIregionbkey001', secret: 'region-b-secret-bench' };
const KEYS = { A_AK_ID: A.accessKeyId, A_AK_SECRET: A.secret, B_AK_ID: B.accessKeyId, B_AK_SECRET: B.secret };
/** Open loop, per instance: well inside the account's 100 calls/s, so B's latency is the route's, not its budget's. */
const RATE_PER_INSTANCE = 40;
const IDS_PER_REQUEST = 5;
const READ_TIMEOUT_MS = 1000;
const QUERY = 'query($ids: [ID!]!, $instanceId: String) { devices(clientIds: $ids, instanceId: $instanceId) { clientId online } }';

type Variant = 'healthy' | 'refused' | 'blackholed';
const VARIANTS: Variant[] = ['healthy', 'refused', 'blackholed'];

interface Round {
  variant: Variant;
  b: LoadResult;
  a: LoadResult;
}

export async function regions(ctx: BenchContext): Promise<ScenarioReport> {
  const directory = mkdtempSync(join(tmpdir(), 'bench-regions-'));
  const hosts: LocalHost[] = [];
  let endpointA: Awaited<ReturnType<typeof switchableEndpoint>> | undefined;
  try {
    for (const instance of [A, B]) {
      const host = await startLocalHost({ env: { LOCAL_INSTANCE_ID: instance.instanceId, LOCAL_ACCESS_KEY_ID: instance.accessKeyId, LOCAL_ACCESS_KEY_SECRET: instance.secret } });
      hosts.push(host);
      await host.command('setFaults', { latencyMs: ctx.rttMs });
    }
    const [hostA, hostB] = hosts;
    const catalogue = (endpointA: string): string => {
      const file = join(directory, `instances-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          accounts: { alpha: { accessKeyIdEnv: 'A_AK_ID', accessKeySecretEnv: 'A_AK_SECRET' }, beta: { accessKeyIdEnv: 'B_AK_ID', accessKeySecretEnv: 'B_AK_SECRET' } },
          instances: { [A.instanceId]: { account: 'alpha', endpoint: endpointA }, [B.instanceId]: { account: 'beta', endpoint: hostB.info.endpoint } },
        }),
      );
      return file;
    };
    endpointA = await switchableEndpoint(hostA.info.endpoint);
    const rounds = await isolationRounds(ctx, hostA, endpointA, catalogue(endpointA.url));
    const redisProblem = await redisUnreachable(ctx.redisUrl);
    if (redisProblem) ctx.log(`regions: two replicas skipped: ${redisProblem}`);
    const accounts = [
      { account: 'alpha', instanceId: A.instanceId, host: hostA },
      { account: 'beta', instanceId: B.instanceId, host: hostB },
    ];
    const file = catalogue(hostA.info.endpoint);
    const budgets = redisProblem ? undefined : await twoReplicas(ctx, accounts, (extra) => serviceEnv(file, extra));
    return report(ctx, rounds, budgets, redisProblem);
  } finally {
    await stopAll(hosts);
    await endpointA?.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** One warm service; per round, A's endpoint switched to a state, then B and A loaded at the same rate. */
async function isolationRounds(ctx: BenchContext, hostA: LocalHost, endpointA: { set(state: Variant): Promise<void> }, file: string): Promise<Round[]> {
  const service = await startService(hostA, serviceEnv(file, { UPSTREAM_REPLICAS: '1', UPSTREAM_READ_TIMEOUT_MS: String(READ_TIMEOUT_MS) }), { name: 'regions service' });
  const load = (instanceId: string, label: string, seconds: number) => {
    const fresh = new FreshIds(label);
    return runLoad({
      url: service.info.url,
      connections: 8,
      ratePerSecond: RATE_PER_INSTANCE,
      durationSeconds: seconds,
      body: () => queryBody(QUERY, { ids: fresh.take(IDS_PER_REQUEST), instanceId }),
      countErrorCodes: true,
    });
  };
  try {
    await Promise.all([load(B.instanceId, 'warm-b', 2), load(A.instanceId, 'warm-a', 2)]);
    const rounds: Round[] = [];
    for (let round = 0; round < ctx.rounds; round++) {
      for (const variant of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
        await endpointA.set(variant);
        // "Healthy" means A answering: its breaker, opened in a dead round, lets a probe through first.
        if (variant === 'healthy') await untilAnswers(service.info.url, A.instanceId);
        const [b, a] = await Promise.all([load(B.instanceId, `rb${round}-${variant}`, ctx.roundSeconds), load(A.instanceId, `ra${round}-${variant}`, ctx.roundSeconds)]);
        ctx.log(`regions: A ${variant}: B p50 ${fmt(b.latencyMs.p50)} ms, ${failed(b)} failed of ${b.completed}`);
        rounds.push({ variant, b, a });
      }
    }
    await endpointA.set('healthy');
    return rounds;
  } finally {
    await stopAll([service]);
  }
}

/** Asks one fresh device of `instanceId` until the answer carries no error (at most 60 s). */
async function untilAnswers(url: string, instanceId: string): Promise<void> {
  const fresh = new FreshIds('probe');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: queryBody(QUERY, { ids: fresh.take(1), instanceId }) });
    if (!((await response.json()) as { errors?: unknown }).errors) return;
    await sleep(250);
  }
  throw new Error(`instance ${instanceId} did not answer within 60 s of its endpoint coming back`);
}

function serviceEnv(file: string, extra: Record<string, string>): Record<string, string> {
  // The catalogue names every endpoint: the single-instance variables startService sets are cleared.
  return { ...KEYS, INSTANCES_FILE: file, ONSMQTT_ENDPOINT: '', MQTT_INSTANCE_ID: B.instanceId, PRESENCE_CACHE_TTL_MS: '0', ...extra };
}

/**
 * Instance A's endpoint as one port the service keeps for the whole run, switched between rounds:
 * `healthy` forwards each connection to A's emulator; `refused` listens on nothing (connection
 * refused); `blackholed` accepts and never answers (every call waits for the read timeout). One warm
 * service sees all three states, so rounds alternate without restarts.
 */
async function switchableEndpoint(target: string): Promise<{ url: string; set(state: Variant): Promise<void>; close(): Promise<void> }> {
  const { hostname, port: targetPort } = new URL(target);
  let state: Variant = 'healthy';
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
    if (state !== 'healthy') return; // blackholed: held, never answered
    const upstream = connect(Number(targetPort), hostname);
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  const listenAt = (port: number) => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  await listenAt(0);
  const port = (server.address() as { port: number }).port;
  const stop = async () => {
    for (const socket of open) socket.destroy();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `http://127.0.0.1:${port}`,
    set: async (next) => {
      // Connections of the previous state (kept alive by the service's agent) end with it.
      await stop();
      state = next;
      if (next !== 'refused') await listenAt(port);
    },
    close: stop,
  };
}

const failed = (load: LoadResult) => load.responsesWithErrors + load.non2xx + load.errors;
const errorRate = (loads: LoadResult[]) => {
  const total = loads.reduce((n, load) => n + load.completed + load.errors, 0);
  return total === 0 ? NaN : (100 * loads.reduce((n, load) => n + failed(load), 0)) / total;
};

function report(ctx: BenchContext, rounds: Round[], budgets: ReplicaBudgets | undefined, redisProblem: string | undefined): ScenarioReport {
  const byVariant = (variant: Variant) => rounds.filter((round) => round.variant === variant);
  const p50 = (variant: Variant) => median(byVariant(variant).map((round) => round.b.latencyMs.p50));
  const p99 = (variant: Variant) => median(byVariant(variant).map((round) => round.b.latencyMs.p99));
  const rows = VARIANTS.map((variant) => {
    const these = byVariant(variant);
    return [
      variant === 'healthy' ? 'A healthy' : `A ${variant}`,
      these.map((round) => fmt(round.b.latencyMs.p50)).join(' · '),
      `**${fmt(p50(variant))}** / ${fmt(p99(variant))}`,
      `${fmt(errorRate(these.map((round) => round.b)), 2)} % of ${these.reduce((n, round) => n + round.b.completed, 0)}`,
      `${fmt(errorRate(these.map((round) => round.a)), 1)} %`,
      formatCodes(Object.assign({}, ...these.map((round) => round.a.errorCodes)) as Record<string, number>),
    ];
  });
  const healthy = p50('healthy');
  const goals: Goal[] = (['refused', 'blackholed'] as const).map((variant) => {
    const bErrors = errorRate(byVariant(variant).map((round) => round.b));
    // "Unchanged": within 20 % or 2 ms of the healthy rounds' median p50, and no error at all.
    const met = p50(variant) <= Math.max(healthy * 1.2, healthy + 2) && bErrors === 0;
    return {
      goal: `with one region's endpoint dead (${variant === 'refused' ? 'connection refused' : 'blackholed, timeouts'}), the other instances' p50 and error rate unchanged`,
      measured: `B p50 ${fmt(p50(variant), 1)} ms vs ${fmt(healthy, 1)} ms healthy (median of ${byVariant(variant).length} rounds); B errors ${fmt(bErrors, 2)} %`,
      met,
    };
  });
  if (budgets) goals.push(...budgetGoals(budgets));
  else goals.push({ goal: 'two replicas: each account\'s budget held separately', measured: `not run: ${redisProblem}`, met: null });
  return {
    title: 'Several regions and accounts: isolation and per-account budgets',
    goals,
    markdown: [
      `Two local instances in processes of their own stand for instance A (account alpha) and instance B (account beta), each emulator ` +
        `adding ${ctx.rttMs} ms per call and counting every call against its account's 100 calls/s. One service with \`INSTANCES_FILE\` naming both; ` +
        `cache off. **(a)** ${ctx.rounds} alternating rounds of ${ctx.roundSeconds} s per state of A's endpoint (healthy; a port nobody listens on; ` +
        `a port that accepts and never answers, \`UPSTREAM_READ_TIMEOUT_MS=${READ_TIMEOUT_MS}\`), one warm service throughout, A's endpoint switched between rounds (A's circuit breaker opens and probes as it would): ` +
        `B and A each loaded open loop at ${RATE_PER_INSTANCE} requests/s of ${IDS_PER_REQUEST} fresh IDs. B's latency is autocannon's (2xx); ` +
        'an error is a response carrying `errors`, a non-2xx or a socket error.',
      '',
      table(['A\'s endpoint', 'B p50 per round (ms)', 'B p50 / p99 (median of rounds, ms)', 'B error rate', 'A error rate', 'A error codes'], rows),
      '',
      budgets ? budgetMarkdown(ctx, budgets) : `**(b)** not run: ${redisProblem}`,
    ].join('\n'),
  };
}
