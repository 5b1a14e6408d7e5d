import Redis from 'ioredis';
import { runLoad } from '../lib/load';
import { stopAll } from '../lib/processes';
import { FreshIds, queryBody } from '../lib/queries';
import type { BenchContext, Goal } from '../lib/report';
import { table } from '../lib/report';
import { fmt } from '../lib/stats';
import { analyseCalls, formatCodes, type UpstreamFigures } from '../lib/upstream-log';
import { quiesce, startService, takeBatchCalls, type LocalHost, type ServiceProcess } from '../lib/topology';

/**
 * Part (b) of the regions scenario: two replicas sharing Redis, each loading both accounts at once
 * (closed loop, fresh IDs, cache off). Beside each emulator's calls it records what tells a budget
 * limit from a machine limit, since both show as "fewer calls/s": each account's requests/s at its
 * clients (a closed loop of N connections makes at most N / latency requests/s, about one call each),
 * each replica's CPU per request and event-loop delay (a starved replica is slow whatever its budget;
 * a loop held past the Redis client's 500 ms command timeout looks to the budget like Redis failing),
 * and the budget keys each account has in Redis (isolation: one key per account, no other).
 */
export interface AccountBudget {
  account: string;
  upstream: UpstreamFigures;
  /** 2xx requests per second over both replicas' clients of this account. */
  clientRequestsPerSecond: number;
  throttledAtClients: number;
  /** Redis keys of this account's budget after the run (its sliding logs and throttle marks). */
  redisKeys: string[];
}

export interface ReplicaBudgets {
  perAccount: AccountBudget[];
  /** Per replica: CPU ms per request (both accounts) and event-loop delay p99 / max, ms. */
  replicas: Array<{ cpuMsPerRequest: number; loopDelayP99Ms: number; loopDelayMaxMs: number }>;
  /** Budget keys under the run's prefix that belong to no account (a shared or legacy key): none expected. */
  strayBudgetKeys: string[];
}

/** As quota saturation gives its one account: closed loop, enough to keep the budget busy at a round trip of hundreds of ms on a loaded machine. */
export const CONNECTIONS_PER_ACCOUNT = 48;
const RAMP_MS = 2000;
const TAIL_MS = 1000;
const QUERY = 'query($ids: [ID!]!, $instanceId: String) { devices(clientIds: $ids, instanceId: $instanceId) { clientId online } }';

export async function twoReplicas(
  ctx: BenchContext,
  accounts: Array<{ account: string; instanceId: string; host: LocalHost }>,
  env: (extra: Record<string, string>) => Record<string, string>,
): Promise<ReplicaBudgets> {
  const prefix = `presence-graph-bench-regions-${Date.now().toString(36)}:`;
  const services: ServiceProcess[] = [];
  const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    for (let i = 0; i < 2; i++) services.push(await startService(accounts[0].host, env({ REDIS_URL: ctx.redisUrl, REDIS_KEY_PREFIX: prefix, UPSTREAM_REPLICAS: '2' }), { name: `regions replica ${i + 1}` }));
    await Promise.all(accounts.map(({ host }) => quiesce(host)));
    ctx.log(`regions: two replicas, both accounts, ${ctx.saturationSeconds} s`);
    const before = await Promise.all(services.map((service) => service.stats({ resetLoopDelay: true })));
    const startedAt = Date.now();
    const loads = await Promise.all(
      services.flatMap((service, i) =>
        accounts.map(async ({ account, instanceId }) => {
          const fresh = new FreshIds(`rr${i}-${instanceId}`);
          const load = await runLoad({
            url: service.info.url,
            connections: CONNECTIONS_PER_ACCOUNT / 2,
            durationSeconds: ctx.saturationSeconds,
            body: () => queryBody(QUERY, { ids: fresh.take(1 + Math.floor(Math.random() * 19)), instanceId }),
            countErrorCodes: true,
          });
          return { replica: i, account, load };
        }),
      ),
    );
    const after = await Promise.all(services.map((service) => service.stats()));
    const endedAt = startedAt + ctx.saturationSeconds * 1000;
    const budgetKeys = await scanKeys(redis, `*${prefix}budget*`);
    const ofAccount = (account: string) => budgetKeys.filter((key) => key.includes(`${prefix}budget:account:${account}:`));
    const perAccount: AccountBudget[] = [];
    for (const { account, host } of accounts) {
      const mine = loads.filter((run) => run.account === account).map((run) => run.load);
      perAccount.push({
        account,
        upstream: analyseCalls(await takeBatchCalls(host), startedAt + RAMP_MS, endedAt - TAIL_MS),
        clientRequestsPerSecond: mine.reduce((n, load) => n + load.requestsPerSecond, 0),
        throttledAtClients: mine.reduce((n, load) => n + (load.errorCodes.UPSTREAM_THROTTLED ?? 0), 0),
        redisKeys: ofAccount(account).map((key) => key.replace(prefix, '<prefix>')),
      });
    }
    const replicas = services.map((_, i) => {
      const requests = loads.filter((run) => run.replica === i).reduce((n, run) => n + run.load.completed + run.load.errors, 0);
      return {
        cpuMsPerRequest: (after[i].cpuMicros - before[i].cpuMicros) / 1000 / Math.max(1, requests),
        loopDelayP99Ms: after[i].loopDelayMs.p99,
        loopDelayMaxMs: after[i].loopDelayMs.max,
      };
    });
    const strayBudgetKeys = budgetKeys.filter((key) => !accounts.some(({ account }) => ofAccount(account).includes(key)));
    await Promise.all(budgetKeys.map((key) => redis.del(key)));
    return { perAccount, replicas, strayBudgetKeys };
  } finally {
    redis.disconnect();
    await stopAll(services);
  }
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...found);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

export function budgetGoals(budgets: ReplicaBudgets): Goal[] {
  const throttled = budgets.perAccount.reduce((n, { throttledAtClients }) => n + throttledAtClients, 0);
  return [
    {
      goal: "under load from two replicas each account's budget is held separately: never over its 100 calls/s in any second",
      measured:
        budgets.perAccount.map(({ account, upstream, redisKeys }) => `${account} max ${upstream.maxCallsInRollingSecond} in any rolling 1 s (${redisKeys.length} budget keys of its own)`).join(', ') +
        `; ${budgets.strayBudgetKeys.length} budget keys shared or of no account; ${throttled} throttled at clients`,
      met:
        budgets.strayBudgetKeys.length === 0 &&
        budgets.perAccount.every(({ upstream }) => upstream.maxCallsInRollingSecond <= 100 && Object.keys(upstream.refused).length === 0),
    },
    {
      goal: 'each account able to use all of its own budget (≥ 95 calls/s sustained each, both loaded at once)',
      measured:
        budgets.perAccount.map(({ account, upstream, clientRequestsPerSecond }) => `${account} ${fmt(upstream.callsPerSecond, 1)} calls/s (clients ${fmt(clientRequestsPerSecond, 1)} requests/s)`).join(', ') +
        `; replicas ${budgets.replicas.map((r) => `${fmt(r.cpuMsPerRequest, 1)} ms CPU/request, loop delay p99 ${fmt(r.loopDelayP99Ms)} ms`).join(' · ')}`,
      met: budgets.perAccount.every(({ upstream }) => upstream.callsPerSecond >= 95),
    },
  ];
}

export function budgetMarkdown(ctx: BenchContext, budgets: ReplicaBudgets): string {
  const rows = budgets.perAccount.map(({ account, upstream, clientRequestsPerSecond, throttledAtClients, redisKeys }) => [
    account,
    upstream.maxCallsInRollingSecond,
    `**${fmt(upstream.callsPerSecond, 1)}**`,
    `${fmt(upstream.perSecond.min)} / ${fmt(upstream.perSecond.median)} / ${fmt(upstream.perSecond.max)}`,
    fmt(clientRequestsPerSecond, 1),
    throttledAtClients,
    formatCodes(upstream.refused),
    redisKeys.map((key) => `\`${key}\``).join(', '),
  ]);
  return [
    `**(b)** Two replicas sharing Redis (\`UPSTREAM_REPLICAS=2\`, a key prefix of the run's own), each loading both accounts closed loop ` +
      `(${CONNECTIONS_PER_ACCOUNT / 2} connections per account per replica, 1–19 fresh IDs per request) for ${ctx.saturationSeconds} s; ` +
      `figures from each emulator's log over the steady window (the first ${RAMP_MS / 1000} s and the last ${TAIL_MS / 1000} s left out; the rolling-second maximum over every call). ` +
      `A closed loop of ${CONNECTIONS_PER_ACCOUNT} connections per account makes at most ${CONNECTIONS_PER_ACCOUNT} / latency requests/s, about one call each: ` +
      'when the clients\' requests/s and the calls/s are both below 100 and the replicas\' event-loop delay is hundreds of ms, the replicas ' +
      '(each serving both accounts, twice the requests of a two-replica quota saturation run) are short of CPU, not of budget. ' +
      'Replicas: ' +
      budgets.replicas.map((r, i) => `${i + 1}: ${fmt(r.cpuMsPerRequest, 1)} ms CPU per request, event-loop delay p99 ${fmt(r.loopDelayP99Ms)} ms (max ${fmt(r.loopDelayMaxMs)})`).join('; ') +
      '.',
    '',
    table(['account', 'max calls in any rolling 1 s', 'calls/s sustained', 'lookups per second min / median / max', 'client requests/s', 'UPSTREAM_THROTTLED at clients', 'refused by the emulator', 'its budget keys in Redis'], rows),
  ].join('\n');
}
