import type Redis from 'ioredis';
import { FailoverBudgetStore } from '../../../src/redis/failover-budget-store';
import { FailoverPresenceCache } from '../../../src/redis/failover-presence-cache';
import { RedisBudgetStore } from '../../../src/redis/redis-budget-store';
import { connectRedis, createRedisClient, REDIS_REJOIN_WITHIN_MS, type RedisConnection } from '../../../src/redis/redis-client';
import { RedisPresenceCache } from '../../../src/redis/redis-presence-cache';
import { capturedLogger, linesSaying } from '../../support/captured-logs';
import { closedPort, deleteKeys, describeWithRedis, startPrivateRedis, uniqueKeyPrefix, type PrivateRedis } from '../../support/redis';
import { waitFor } from '../../support/wait-for';

/**
 * The failover stores over the service's own Redis client (createRedisClient: no offline queue, short
 * timeouts), against a Redis that is not there, and one the test kills and starts again.
 */
const OUTAGE = 'Redis unreachable';
const RECOVERY = 'Redis reachable again';

/** The stores as presence-core.ts wires them, on one connection, with the logs an operator would read. */
function storesOn(url: string, budgetPrefix = 'failover-test:budget:') {
  const { logger, lines } = capturedLogger();
  const redis = createRedisClient(url, logger);
  const budget = new FailoverBudgetStore(new RedisBudgetStore(redis, budgetPrefix), {
    replicas: 2,
    logger,
    peerRejoinMs: REDIS_REJOIN_WITHIN_MS,
  });
  const cache = new FailoverPresenceCache(new RedisPresenceCache(redis, 'failover-test:presence:'), logger);
  return { redis, budget, cache, lines };
}

describe('the failover stores when Redis is unreachable from the start', () => {
  let stores: ReturnType<typeof storesOn>;

  beforeAll(async () => {
    stores = storesOn(`redis://127.0.0.1:${await closedPort()}`);
    await connectRedis(stores.redis, capturedLogger().logger);
  });
  afterAll(() => stores.redis.disconnect());

  it('grants nothing for one window, then this replica its share of the limit, and logs the fallback once', async () => {
    const windowMs = 300;
    const noticedAt = Date.now();
    const first = await stores.budget.tryAcquire('Batch', 10, windowMs, 0);
    expect(first.granted).toBe(false);
    const { retryAfterMs } = first as { retryAfterMs: number };
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(windowMs);

    await waitFor('the hold-down to end', async () => (await stores.budget.tryAcquire('Batch', 10, windowMs, 0)).granted, 5000, 5);
    const grantedAt = Date.now();
    expect(grantedAt - noticedAt).toBeGreaterThanOrEqual(windowMs - 10);
    let granted = 1;
    while ((await stores.budget.tryAcquire('Batch', 10, windowMs, 0)).granted) granted++;
    // Half of the limit (UPSTREAM_REPLICAS = 2), unless a whole window went by meanwhile.
    if (Date.now() - grantedAt < windowMs) expect(granted).toBe(5);
    expect(stores.budget.degraded).toBe(true);
    expect(linesSaying(stores.lines, `${OUTAGE}: the upstream QPS budget (per-replica share 1/2) falls back to this replica's memory`)).toHaveLength(1);
  });

  it("keeps statuses in this replica's memory, and logs that once however many calls fail", async () => {
    await stores.cache.setMany([['inst\nGID_a@@@one', { online: true, checkedAtMs: 5 }]], 60_000);
    for (let i = 0; i < 3; i++) {
      expect(await stores.cache.getMany(['inst\nGID_a@@@one', 'inst\nGID_a@@@two'])).toEqual([{ online: true, checkedAtMs: 5 }, undefined]);
    }
    const logged = linesSaying(stores.lines, `${OUTAGE}: the presence cache falls back to this replica's memory`);
    expect(logged).toHaveLength(1);
    expect(logged[0].level).toBe(50);
  });
});

describeWithRedis('the failover stores when a private Redis is killed and started again', ['server'], () => {
  let server: PrivateRedis;
  let stores: ReturnType<typeof storesOn>;

  beforeAll(async () => {
    server = await startPrivateRedis();
    stores = storesOn(server.url);
    await connectRedis(stores.redis, capturedLogger().logger);
  });
  afterAll(async () => {
    stores?.redis.disconnect();
    await server?.kill();
  });

  const inRedis = (redis: RedisConnection, key: string) => redis.exists(key);

  it('shares through Redis, falls back when it dies, and rejoins once it answers again', async () => {
    const windowMs = 200;
    expect(await stores.budget.tryAcquire('Batch', 10, windowMs, 0)).toMatchObject({ granted: true });
    await stores.cache.setMany([['inst\nGID_a@@@kept', { online: true, checkedAtMs: 7 }]], 60_000);
    expect(await inRedis(stores.redis, 'failover-test:budget:Batch')).toBe(1);
    expect(await inRedis(stores.redis, 'failover-test:presence:inst\nGID_a@@@kept')).toBe(1);
    expect(stores.lines.join('')).not.toContain(OUTAGE);

    await server.kill();
    // Calls keep getting answers: the budget after its hold-down window, the cache at once.
    await waitFor('a grant from the fallback budget', async () => (await stores.budget.tryAcquire('Batch', 10, windowMs, 0)).granted, 5000, 20);
    await stores.cache.setMany([['inst\nGID_a@@@meanwhile', { online: false, checkedAtMs: 8 }]], 60_000);
    expect(await stores.cache.getMany(['inst\nGID_a@@@meanwhile'])).toEqual([{ online: false, checkedAtMs: 8 }]);
    expect(stores.budget.degraded).toBe(true);
    expect(linesSaying(stores.lines, OUTAGE)).toHaveLength(2);

    await server.start();
    await waitFor('the budget to rejoin Redis', async () => (await stores.budget.tryAcquire('Batch', 10, windowMs, 0), !stores.budget.degraded), 10_000, 50);
    await waitFor('the cache to rejoin Redis', async () => (await stores.cache.getMany(['inst\nGID_a@@@x']), linesSaying(stores.lines, RECOVERY).length === 2), 10_000, 50);
    // The restarted Redis is empty: what is granted and stored now is shared again.
    expect(await inRedis(stores.redis, 'failover-test:budget:Batch')).toBe(1);
    await stores.cache.setMany([['inst\nGID_a@@@after', { online: true, checkedAtMs: 9 }]], 60_000);
    expect(await inRedis(stores.redis, 'failover-test:presence:inst\nGID_a@@@after')).toBe(1);
    for (const line of linesSaying(stores.lines, RECOVERY)) expect(line).toMatchObject({ level: 40, degradedForMs: expect.any(Number) });
  });
});

describeWithRedis('the failover budget when a command times out because this replica stalled, not Redis', ['redis'], () => {
  const prefix = uniqueKeyPrefix('failover-stall');
  let stores: ReturnType<typeof storesOn>;

  beforeAll(async () => {
    stores = storesOn(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix);
    await connectRedis(stores.redis, capturedLogger().logger);
  });
  afterAll(async () => {
    await deleteKeys(stores.redis as Redis, prefix);
    stores.redis.disconnect();
  });

  it('grants again as soon as Redis answers, instead of refusing the account for a window', async () => {
    const windowMs = 1000;
    expect(await stores.budget.tryAcquire('Batch', 10, windowMs, 0)).toMatchObject({ granted: true });
    // A busy host: the event loop is held past the client's 500 ms command timeout while the call is
    // in flight. Redis answers at once, but the timer runs before the answer is read.
    const stalled = stores.budget.tryAcquire('Batch', 10, windowMs, 0);
    const stallUntil = Date.now() + 700;
    while (Date.now() < stallUntil); // the stall being reproduced, not a wait
    expect(await stalled).toMatchObject({ granted: false });
    expect(linesSaying(stores.lines, `${OUTAGE}: the upstream QPS budget`)).toHaveLength(1);

    // Redis is there: the next call is granted through it, within this replica's share while joining.
    const next = await stores.budget.tryAcquire('Batch', 10, windowMs, 0);
    expect(next).toMatchObject({ granted: true });
    expect(stores.budget.degraded).toBe(false);
    expect(linesSaying(stores.lines, `${RECOVERY}: the upstream QPS budget`)).toHaveLength(1);
    // Both grants so far are in Redis's count (the stalled call's too: Redis ran it), and the share caps the rest.
    let granted = 1;
    while ((await stores.budget.tryAcquire('Batch', 10, windowMs, 0)).granted) granted++;
    expect(granted).toBeLessThanOrEqual(5);
    expect(await stores.redis.zcard(`${prefix}Batch`)).toBeLessThanOrEqual(10);
  });
});
