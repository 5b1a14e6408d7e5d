import type { AppConfig } from '../config';
import type { BudgetStore } from '../presence/budget';
import { createPresenceDispatcher } from '../presence/dispatcher-from-config';
import type { PresenceCacheStore } from '../presence/presence-cache';
import type { SessionApi } from '../presence/session-api';
import type { PresenceLookup, PresenceObserver } from '../presence/types';
import { FailoverBudgetStore } from '../redis/failover-budget-store';
import { FailoverPresenceCache } from '../redis/failover-presence-cache';
import { RedisBudgetStore } from '../redis/redis-budget-store';
import { connectRedis, createRedisClient, redisHostForLogs } from '../redis/redis-client';
import { RedisPresenceCache } from '../redis/redis-presence-cache';
import type { ReadinessCheck } from './http-app';
import type { Logger } from './logger';

/** The process-wide presence core and what it lives on: one per process, shared by every request. */
export interface PresenceCore {
  lookup: PresenceLookup;
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
  const readiness: ReadinessCheck[] = [];
  const closers: Array<() => Promise<void>> = [];

  if (config.redisUrl) {
    const redis = createRedisClient(config.redisUrl, logger);
    await connectRedis(redis, logger);
    budgetStore = new FailoverBudgetStore(new RedisBudgetStore(redis), config.upstreamReplicas, logger);
    cache = new FailoverPresenceCache(new RedisPresenceCache(redis), logger);
    readiness.push({
      name: 'redis',
      async check() {
        await redis.ping();
      },
    });
    closers.push(async () => void redis.disconnect());
    logger.info({ redis: redisHostForLogs(config.redisUrl) }, 'QPS budget and presence cache shared through Redis');
  }

  const dispatcher = createPresenceDispatcher(config.presence, { api, budgetStore, cache, observer });
  return {
    lookup: dispatcher,
    readiness,
    async close() {
      dispatcher.close();
      for (const close of closers) await close();
    },
  };
}
