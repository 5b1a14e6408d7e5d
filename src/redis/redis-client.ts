import Redis from 'ioredis';
import type { Logger } from '../server/logger';

/**
 * One Redis connection per process, shared by the budget and the cache. Commands fail fast while
 * the connection is down (no offline queue, one retry, short timeouts) so the callers' fallback to
 * memory takes over within milliseconds instead of requests waiting on a queue; ioredis keeps
 * reconnecting in the background and the shared stores are used again once it is back.
 */
export function createRedisClient(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    commandTimeout: 500,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  // Without a listener ioredis prints every failed reconnect; SharedOrLocal logs the outage once.
  redis.on('error', (error) => logger.debug({ err: { message: error.message } }, 'redis connection error'));
  return redis;
}

/** Connects at start; a Redis that is down at start is not fatal (the service runs degraded). */
export async function connectRedis(redis: Redis, logger: Logger): Promise<void> {
  try {
    await redis.connect();
  } catch (error) {
    logger.error({ err: { message: (error as Error).message } }, 'Redis unreachable at start: budget and cache run per replica until it is back');
  }
}

/** Where a URL may carry a password, only its host goes to logs. */
export function redisHostForLogs(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
}
