import type { AppConfig } from './config';
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
  /** Where the account's call budget is counted: the subscription poller takes its calls from it too. */
  budgetStore: BudgetStore;
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
): Promise<PresenceCore> {
  let budgetStore: BudgetStore | undefined;
  let cache: PresenceCacheStore | undefined;
  let apqCache: RedisKeyValueCache | undefined;
  let redis: RedisConnection | undefined;
  const readiness: ReadinessCheck[] = [];
  const closers: Array<() => Promise<void>> = [];

  if (config.redisUrl) {
    const client = (redis = createRedisClient(config.redisUrl, logger, { cluster: config.redisCluster }));
    const connected = await connectRedis(client, logger);
    const prefix = config.redisKeyPrefix;
    budgetStore = new FailoverBudgetStore(new RedisBudgetStore(client, `${prefix}budget:`), {
      replicas: config.upstreamReplicas,
      logger,
      peerRejoinMs: REDIS_REJOIN_WITHIN_MS,
    });
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

  // One store for the dispatcher and the subscription poller, so queries and polls count together.
  const accountBudgetStore = budgetStore ?? new MemoryBudgetStore();
  const maxCallMs = config.upstream.connectTimeoutMs + config.upstream.readTimeoutMs;
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
