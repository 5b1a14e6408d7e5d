/** Redis, shared by the replicas of one account: budget, cache and persisted queries. */
import { ConfigError, integer, parsedUrl, text, type Env } from './env';

export interface RedisSettings {
  redisUrl?: string;
  /** Prefix of every Redis key this service writes; replicas sharing an account must share it. */
  redisKeyPrefix: string;
  /**
   * Replicas sharing the account: while Redis is unreachable each takes 1/N of the budget, so
   * together they still stay within it.
   */
  upstreamReplicas: number;
}

export function redisSettings(env: Env): RedisSettings {
  return {
    redisUrl: redisUrl(env),
    redisKeyPrefix: text(env, 'REDIS_KEY_PREFIX') ?? 'presence-graph:',
    upstreamReplicas: integer(env, 'UPSTREAM_REPLICAS', 2, 1, 1000),
  };
}

/**
 * `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. The value is never quoted back:
 * it may hold the password. Unchecked, a typo started the service with nothing shared, and every
 * replica took the whole account budget for itself.
 */
function redisUrl(env: Env): string | undefined {
  const raw = text(env, 'REDIS_URL');
  if (raw === undefined) return undefined;
  const parsed = parsedUrl(raw);
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || !parsed.hostname) {
    throw new ConfigError('REDIS_URL must be a URL such as redis://127.0.0.1:6379 (rediss:// for TLS); the value given is not (not shown: it may hold a password)');
  }
  return raw;
}
