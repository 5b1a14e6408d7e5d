/** Redis, shared by the replicas of one account: budget, cache and persisted queries. */
import { ConfigError, flag, integer, parsedUrl, text, type Env } from './env';

export interface RedisSettings {
  /** One Redis, or with `redisCluster` one or more comma-separated seed nodes of a Redis Cluster. */
  redisUrl?: string;
  /** REDIS_CLUSTER: REDIS_URL names nodes of a Redis Cluster; the client discovers the rest. */
  redisCluster: boolean;
  /** Prefix of every Redis key this service writes; replicas sharing an account must share it. */
  redisKeyPrefix: string;
  /**
   * Replicas sharing the account: while Redis is unreachable each takes 1/N of the budget, so
   * together they still stay within it.
   */
  upstreamReplicas: number;
}

export function redisSettings(env: Env): RedisSettings {
  const redisCluster = flag(env, 'REDIS_CLUSTER', false);
  return {
    redisUrl: redisUrl(env, redisCluster),
    redisCluster,
    redisKeyPrefix: text(env, 'REDIS_KEY_PREFIX') ?? 'presence-graph:',
    upstreamReplicas: integer(env, 'UPSTREAM_REPLICAS', 2, 1, 1000),
  };
}

/**
 * `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS; for a cluster, one or more such
 * URLs, comma-separated. The value is never quoted back: it may hold the password. Unchecked, a typo
 * started the service with nothing shared, and every replica took the whole account budget for itself.
 */
function redisUrl(env: Env, cluster: boolean): string | undefined {
  const raw = text(env, 'REDIS_URL');
  if (raw === undefined) return undefined;
  const urls = cluster ? raw.split(',').map((part) => part.trim()) : [raw];
  for (const one of urls) {
    const parsed = parsedUrl(one);
    if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || !parsed.hostname) {
      throw new ConfigError(
        `REDIS_URL must be a URL such as redis://127.0.0.1:6379 (rediss:// for TLS${cluster ? '; with REDIS_CLUSTER=true, one or more, comma-separated' : ''}); the value given is not (not shown: it may hold a password)`,
      );
    }
  }
  return raw;
}
