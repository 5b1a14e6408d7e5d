import Redis from 'ioredis';
import { RedisNoticeCoverage } from '../../../src/redis/redis-notice-coverage';
import { deleteKeys, describeWithRedis, REDIS_URL, uniqueKeyPrefix } from '../../support/redis';
import { waitFor } from '../../support/wait-for';

describeWithRedis('RedisNoticeCoverage on a real Redis', ['redis'], () => {
  let redis: Redis;
  const prefix = uniqueKeyPrefix('coverage');
  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it('keeps when the coverage began while replicas keep saying they consume, and lapses maxGapMs after the last', async () => {
    const coverage = new RedisNoticeCoverage(redis, `${prefix}a`);
    const other = new RedisNoticeCoverage(redis, `${prefix}a`);
    expect(await coverage.since()).toBeUndefined();
    expect(await coverage.consuming(1_000, 60_000)).toBe(1_000);
    expect(await other.consuming(5_000, 60_000)).toBe(1_000);
    expect(await other.since()).toBe(1_000);
    expect(await redis.pttl(`${prefix}a`)).toBeGreaterThan(59_000);

    await coverage.consuming(9_000, 100);
    await waitFor('the coverage to lapse', async () => (await coverage.since()) === undefined, 5_000);
    expect(await other.consuming(20_000, 60_000)).toBe(20_000);
  });
});
