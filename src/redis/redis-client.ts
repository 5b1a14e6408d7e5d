import Redis from 'ioredis';
import type { Logger } from '../common/logger';

const CONNECT_TIMEOUT_MS = 1000;
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * The longest a replica may stay cut off after Redis is back: its next reconnect attempt starts at
 * most MAX_RECONNECT_DELAY_MS later and takes at most CONNECT_TIMEOUT_MS (failover-budget-store.ts).
 */
export const REDIS_REJOIN_WITHIN_MS = MAX_RECONNECT_DELAY_MS + CONNECT_TIMEOUT_MS;

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
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: 500,
    retryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
    // disconnect() while reconnecting leaves a timer of this length behind (2 s by default), which
    // holds a stopping process (and a test run) open that long after Redis went away.
    disconnectTimeout: 100,
  });
  // Without a listener ioredis prints every failed reconnect; SharedOrLocal logs the outage once.
  redis.on('error', (error) => logger.debug({ err: { message: error.message } }, 'redis connection error'));
  return redis;
}

/**
 * Connects at start; a Redis that is down at start is not fatal (the service runs degraded).
 * Whether it answered, so the start log says one thing, not both.
 */
export async function connectRedis(redis: Redis, logger: Logger): Promise<boolean> {
  try {
    await redis.connect();
    return true;
  } catch (error) {
    logger.error({ err: { message: (error as Error).message } }, 'Redis unreachable at start: budget and cache run per replica until it is back');
    return false;
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
