import type { AccountConfig, AppConfig } from './config';
import { InvalidInputError } from './presence/errors';
import type { PresenceDispatcher } from './presence/presence-dispatcher';
import { PresenceRouter } from './presence/presence-router';
import { MemoryBudgetStore, type BudgetStore } from './presence/budget';
import { createPresenceDispatcher } from './presence/dispatcher-from-config';
import type { PresenceCacheStore } from './presence/presence-cache';
import type { SessionApi } from './presence/session-api';
import type { PresenceLookup, PresenceObserver } from './presence/types';
import { FailoverBudgetStore } from './redis/failover-budget-store';
import { FailoverPresenceCache } from './redis/failover-presence-cache';
import { RedisBudgetStore } from './redis/redis-budget-store';
import { REDIS_REJOIN_WITHIN_MS, connectRedis, createRedisClient, redisHostForLogs, type RedisConnection } from './redis/redis-client';
import { RedisKeyValueCache } from './redis/redis-key-value-cache';
import { RedisPresenceCache } from './redis/redis-presence-cache';
import type { ReadinessCheck } from './server/http/http-app';
import type { Logger } from './common/logger';

/** The process-wide presence core and what it lives on: one per process, shared by every request. */
export interface PresenceCore {
  lookup: PresenceLookup;
  /**
   * Where the account's call budget is counted: the subscription poller takes its calls from it too.
   * With INSTANCES_FILE: the first account's; `accountBudgetStores` holds each account's.
   */
  budgetStore: BudgetStore;
  /** INSTANCES_FILE: each account's budget store, by account name. */
  accountBudgetStores?: ReadonlyMap<string, BudgetStore>;
  /** Automatic Persisted Queries shared by the replicas (Redis); unset: Apollo's in-memory default. */
  apqCache?: RedisKeyValueCache;
  /** The shared Redis (or Redis Cluster) connection with REDIS_URL: the status notices' table lives there too. */
  redis?: RedisConnection;
  readiness: ReadinessCheck[];
  close(): Promise<void>;
}

/**
 * Wires the dispatcher to its stores: with REDIS_URL, the QPS budget and the cache are shared by
 * every replica through Redis (falling back to this replica's memory while Redis is down);
 * without it, both live in this process's memory.
 */
export async function createPresenceCore(
  config: Readonly<AppConfig>,
  api: SessionApi,
  observer: PresenceObserver,
  logger: Logger,
  routes?: readonly CoreRoute[],
): Promise<PresenceCore> {
  let budgetStore: BudgetStore | undefined;
  /** A budget store under `keyPrefix` (Redis when shared, else this process's memory): one per account. */
  let storeFor: (keyPrefix: string) => BudgetStore = () => new MemoryBudgetStore();
  let cache: PresenceCacheStore | undefined;
  let apqCache: RedisKeyValueCache | undefined;
  let redis: RedisConnection | undefined;
  const readiness: ReadinessCheck[] = [];
  const closers: Array<() => Promise<void>> = [];

  if (config.redisUrl) {
    const client = (redis = createRedisClient(config.redisUrl, logger, { cluster: config.redisCluster }));
    const connected = await connectRedis(client, logger);
    const prefix = config.redisKeyPrefix;
    storeFor = (keyPrefix) =>
      new FailoverBudgetStore(new RedisBudgetStore(client, `${prefix}${keyPrefix}`), {
        replicas: config.upstreamReplicas,
        logger,
        peerRejoinMs: REDIS_REJOIN_WITHIN_MS,
      });
    budgetStore = routes ? undefined : storeFor(LEGACY_BUDGET_KEY_PREFIX);
    cache = new FailoverPresenceCache(new RedisPresenceCache(client, `${prefix}presence:`), logger);
    apqCache = new RedisKeyValueCache(client, prefix);
    readiness.push({
      name: 'redis',
      async check() {
        // ioredis's own reason ("Stream isn't writeable…") tells an operator nothing. Not the host:
        // /readyz needs no credentials, and the start log names it.
        await client.ping().catch(() => {
          throw new Error('Redis (REDIS_URL) does not answer');
        });
      },
    });
    closers.push(async () => void client.disconnect());
    if (connected) logger.info({ redis: redisHostForLogs(config.redisUrl) }, 'QPS budget, presence cache and persisted queries shared through Redis');
  }

  const maxCallMs = config.upstream.connectTimeoutMs + config.upstream.readTimeoutMs;
  if (routes) {
    const { lookup, accountBudgetStores, close } = routedCore(config, routes, { cache, observer, maxCallMs, storeFor });
    return {
      lookup,
      budgetStore: accountBudgetStores.values().next().value!,
      accountBudgetStores,
      apqCache,
      redis,
      readiness,
      async close() {
        close();
        for (const closeOne of closers) await closeOne();
      },
    };
  }
  // One store for the dispatcher and the subscription poller, so queries and polls count together.
  const accountBudgetStore = budgetStore ?? new MemoryBudgetStore();
  const dispatcher = createPresenceDispatcher(config.presence, { api, budgetStore: accountBudgetStore, cache, observer, maxCallMs });
  return {
    lookup: dispatcher,
    budgetStore: accountBudgetStore,
    apqCache,
    redis,
    readiness,
    async close() {
      dispatcher.close();
      for (const close of closers) await close();
    },
  };
}

/** The Redis keys of the budget of a deployment without INSTANCES_FILE (`<REDIS_KEY_PREFIX>budget:<action>`). */
const LEGACY_BUDGET_KEY_PREFIX = 'budget:';

/** One route of INSTANCES_FILE as the core sees it: an account's instances at one endpoint (upstream/instance-routes.ts). */
export interface CoreRoute {
  readonly account: AccountConfig;
  readonly instanceIds: readonly string[];
  readonly api: SessionApi;
}

/**
 * INSTANCES_FILE: one dispatcher per route (its own circuit breaker, so one region down or one
 * account refused opens only its own), one budget store per account shared by that account's routes
 * and, through Redis, by every replica (`<prefix>budget:account:<name>:<action>`; the account with
 * legacyBudgetKey keeps `<prefix>budget:<action>`, shared with replicas still without the file).
 * Accounts share nothing but the cache, whose keys name the instance.
 */
function routedCore(
  config: Readonly<AppConfig>,
  routes: readonly CoreRoute[],
  shared: { cache: PresenceCacheStore | undefined; observer: PresenceObserver; maxCallMs: number; storeFor: (keyPrefix: string) => BudgetStore },
): { lookup: PresenceRouter; accountBudgetStores: Map<string, BudgetStore>; close(): void } {
  const accountBudgetStores = new Map<string, BudgetStore>();
  const dispatchers: PresenceDispatcher[] = [];
  const byInstance = new Map<string, PresenceDispatcher>();
  for (const route of routes) {
    const { account } = route;
    let store = accountBudgetStores.get(account.name);
    if (!store) accountBudgetStores.set(account.name, (store = shared.storeFor(account.legacyBudgetKey ? LEGACY_BUDGET_KEY_PREFIX : `budget:account:${account.name}:`)));
    const dispatcher = createPresenceDispatcher(
      { ...config.presence, batchQps: account.batchQps, exactQps: account.exactQps },
      { api: route.api, budgetStore: store, cache: shared.cache, observer: shared.observer, maxCallMs: shared.maxCallMs },
    );
    dispatchers.push(dispatcher);
    for (const instanceId of route.instanceIds) byInstance.set(instanceId, dispatcher);
  }
  const file = config.instances?.file ?? 'INSTANCES_FILE';
  const lookup = new PresenceRouter(
    (instanceId) => byInstance.get(instanceId),
    (instanceId) => new InvalidInputError(`Instance ${JSON.stringify(instanceId)} is not in INSTANCES_FILE ${file}: no call was made`),
  );
  return {
    lookup,
    accountBudgetStores,
    close() {
      for (const dispatcher of dispatchers) dispatcher.close();
    },
  };
}
