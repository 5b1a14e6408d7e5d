import type Redis from 'ioredis';
import type { CachedPresence, PresenceCacheStore } from '../presence/presence-cache';

/**
 * The presence cache shared by every replica: one string per device, `<online 0|1>:<checkedAtMs>`,
 * expired by Redis itself. Reads are one MGET, writes one pipeline, whatever the number of keys.
 */
export class RedisPresenceCache implements PresenceCacheStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix = 'presence-graph:presence:',
  ) {}

  async getMany(keys: string[]): Promise<Array<CachedPresence | undefined>> {
    if (keys.length === 0) return [];
    const values = await this.redis.mget(keys.map((key) => this.keyPrefix + key));
    return values.map(decode);
  }

  async setMany(entries: Array<[string, CachedPresence]>, ttlMs: number): Promise<void> {
    if (entries.length === 0 || ttlMs <= 0) return;
    const pipeline = this.redis.pipeline();
    for (const [key, value] of entries) {
      pipeline.set(this.keyPrefix + key, `${value.online ? 1 : 0}:${value.checkedAtMs}`, 'PX', Math.ceil(ttlMs));
    }
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw failed[0];
  }
}

function decode(value: string | null): CachedPresence | undefined {
  if (!value) return undefined;
  const [online, checkedAt] = value.split(':');
  const checkedAtMs = Number(checkedAt);
  if ((online !== '0' && online !== '1') || !Number.isFinite(checkedAtMs)) return undefined;
  return { online: online === '1', checkedAtMs };
}
