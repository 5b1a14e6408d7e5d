import type { RedisConnection } from './redis-client';

/**
 * Apollo's `KeyValueCache` over the process's Redis connection: where Automatic Persisted Queries
 * live when REDIS_URL is set, so a query registered through one replica is known to all of them
 * (a client whose hash-only request lands on another replica is not asked to send the query again).
 *
 * A Redis outage degrades APQ, never a request: a failed read is a miss (the client re-sends the
 * full query, as the APQ protocol provides) and a failed write is dropped.
 *
 * Every command names one key, so a Redis Cluster serves it as it is (the key's own slot).
 */
export class RedisKeyValueCache {
  constructor(
    private readonly redis: RedisConnection,
    /** Apollo adds its own `apq:` after this prefix. */
    private readonly keyPrefix: string,
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.redis.get(this.keyPrefix + key)) ?? undefined;
    } catch {
      return undefined;
    }
  }

  /** `ttl` in seconds, as Apollo gives it; none or 0: kept until Redis evicts it. */
  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    try {
      if (options?.ttl) await this.redis.set(this.keyPrefix + key, value, 'EX', Math.ceil(options.ttl));
      else await this.redis.set(this.keyPrefix + key, value);
    } catch {
      // Dropped: the next request for this hash is a miss, and the client registers it again.
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      return (await this.redis.del(this.keyPrefix + key)) > 0;
    } catch {
      return false;
    }
  }
}
