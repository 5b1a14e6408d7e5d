import Redis, { Cluster } from 'ioredis';
import type { Logger } from '../common/logger';
import { clusterSeeds } from './cluster-seeds';
import { redisFailureReason } from './redis-failure';

/** What the stores run on: one Redis, or a Redis Cluster reached through its own client. */
export type RedisConnection = Redis | Cluster;

const CONNECT_TIMEOUT_MS = 1000;
const MAX_RECONNECT_DELAY_MS = 2000;
const COMMAND_TIMEOUT_MS = 500;
/** disconnect() while reconnecting leaves a timer of this length behind (2 s by default). */
const DISCONNECT_TIMEOUT_MS = 100;

/**
 * The longest a replica may stay cut off after Redis is back: its next reconnect attempt starts at
 * most MAX_RECONNECT_DELAY_MS later and takes at most CONNECT_TIMEOUT_MS (failover-budget-store.ts).
 * For a cluster: a master's failover does not cut the client off (its next command finds the
 * promoted replica through a MOVED redirection, measured within milliseconds of the promotion). A
 * client that lost every node reconnects on the same pacing and asks the seeds for the slot map,
 * CONNECT_TIMEOUT_MS each, in random order: the bound holds while the first seed it asks answers,
 * and grows by CONNECT_TIMEOUT_MS for each dead seed asked before one that answers.
 */
export const REDIS_REJOIN_WITHIN_MS = MAX_RECONNECT_DELAY_MS + CONNECT_TIMEOUT_MS;

export interface RedisClientOptions {
  /**
   * `url` names nodes of a Redis Cluster (REDIS_CLUSTER=true): one or more comma-separated seed
   * URLs sharing one scheme, user and password; the client discovers the others from them.
   * @default false: `url` is one Redis.
   */
  cluster?: boolean;
}

/**
 * One Redis connection per process, shared by the budget and the cache. Commands fail fast while
 * the connection is down (no offline queue, one retry, short timeouts) so the callers' fallback to
 * memory takes over within milliseconds instead of requests waiting on a queue; ioredis keeps
 * reconnecting in the background and the shared stores are used again once it is back.
 */
export function createRedisClient(url: string, logger: Logger, options: RedisClientOptions = {}): RedisConnection {
  const redis = options.cluster ? createClusterClient(url) : createSingleClient(url);
  // Without a listener ioredis prints every failed reconnect; SharedOrLocal logs the outage once.
  redis.on('error', (error: Error) => logger.debug({ reason: redisFailureReason(error) }, 'Redis connection attempt failed'));
  return redis;
}

function createSingleClient(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
  });
}

/**
 * The same fail-fast policy over a cluster, within what ioredis allows. Without an offline queue it
 * refuses a command for a node whose connection is still being opened ("Connection is closed."),
 * which happens to the second command sent to any node the client meets; ioredis retries such a
 * command every `retryDelayOnFailover` up to `maxRedirections` times, and so does it while a master
 * is failing over. 20 ms × 16 keeps that wait near COMMAND_TIMEOUT_MS (measured at most 0.45 s while
 * a master was failing over); the default, 100 ms × 16, would hold a lookup up to 1.6 s before the
 * stores' fallback could answer it. CLUSTERDOWN (a slot without a
 * master) fails at once: no master comes back within milliseconds. Once a replica is promoted, the
 * next command is redirected to it (MOVED) at once. Reads go to masters only (the default): a
 * replica may lag behind the cache's compare-on-write.
 */
function createClusterClient(urls: string): Cluster {
  const { seeds, auth } = clusterSeeds(urls);
  return new Cluster(seeds, {
    lazyConnect: true,
    enableOfflineQueue: false,
    retryDelayOnFailover: 20,
    maxRedirections: 16,
    retryDelayOnClusterDown: 0,
    clusterRetryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
    slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
    redisOptions: {
      ...auth,
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: COMMAND_TIMEOUT_MS,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    },
  });
}

/**
 * Connects at start; a Redis that is down at start is not fatal (the service runs degraded).
 * Whether it answered, so the start log says one thing, not both.
 */
export async function connectRedis(redis: RedisConnection, logger: Logger): Promise<boolean> {
  try {
    await redis.connect();
    return true;
  } catch (error) {
    const reason = redisFailureReason(error);
    logger.error({ reason }, `Redis unreachable at start (${reason}): budget and cache run per replica until it is back`);
    return false;
  }
}

/** Where a URL may carry a password, only its host goes to logs (each seed's, for a cluster). */
export function redisHostForLogs(url: string): string {
  return url
    .split(',')
    .map((one) => {
      try {
        const parsed = new URL(one.trim());
        return `${parsed.protocol}//${parsed.host}`;
      } catch {
        return '(unparseable REDIS_URL)';
      }
    })
    .join(',');
}
