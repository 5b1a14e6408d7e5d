import Redis from 'ioredis';
import { RedisPresenceTable } from '../../../src/redis/redis-presence-table';
import { deleteKeys, describeWithRedis, REDIS_URL, uniqueKeyPrefix } from '../../support/redis';
import { redisPresenceTableContract } from './redis-presence-table-contract';

/** The shared presence table on the real Redis (the same tests run on a Redis Cluster with its harness). */
describeWithRedis('RedisPresenceTable on a real Redis', ['redis'], () => {
  let redis: Redis;
  const prefixes: string[] = [];
  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(redis, prefix);
    await redis.quit();
  });

  redisPresenceTableContract(() => redis, prefixes);

  it('loads its scripts again when Redis has lost them (EVALSHA falls back to EVAL on NOSCRIPT)', async () => {
    const keyPrefix = uniqueKeyPrefix('table');
    prefixes.push(keyPrefix);
    const table = new RedisPresenceTable(redis, { keyPrefix, bucketsPerGroup: 4 });
    await redis.script('FLUSH');
    expect(await table.countGroup('inst', 'GID_noscript')).toEqual({ online: 0, known: 0 });
  });
});
