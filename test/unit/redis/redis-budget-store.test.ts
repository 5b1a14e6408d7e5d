import { setTimeout as sleep } from 'node:timers/promises';
import { RedisBudgetStore, sameSlotKey } from '../../../src/redis/redis-budget-store';
import { startBudgetLoad } from '../../support/budget-load';
import { describeWithRedis, twoReplicaConnections } from '../../support/redis';
import { mostInAnyWindow } from '../../support/rolling-window';
import { waitFor } from '../../support/wait-for';

// ioredis's own slot function: what a Redis Cluster computes for a key.
const calculateSlot: (key: string) => number = require('cluster-key-slot');

/**
 * The account-wide budget shared by replicas (BatchQuerySessionByClientIds: 100 calls per second per
 * account, whoever makes them), on the real Redis. Two ioredis connections stand for two replicas.
 */
describeWithRedis('RedisBudgetStore on a real Redis', ['redis'], () => {
  const { prefix, replicaA, replicaB } = twoReplicaConnections('budget');

  it('never lets the upstream see more than the limit in any rolling window, with many concurrent callers on two connections and calls of any duration, and grants the whole budget', async () => {
    const action = 'Saturated';
    const limit = 25;
    const windowMs = 200;
    const runMs = 1600;
    const stores = [new RedisBudgetStore(replicaA(), prefix), new RedisBudgetStore(replicaB(), prefix)];
    // Many callers per connection, calls reaching the upstream some time after their grant (one in ten
    // slowly, a cold connection), half of them waiting as told and half hammering the store.
    const load = startBudgetLoad(stores, { action, limit, windowMs });
    await sleep(runMs); // the length of the load, not a wait for anything
    await load.stop();
    const { arrivals } = load;

    expect(mostInAnyWindow(arrivals, windowMs)).toBeLessThanOrEqual(limit);
    // Saturated callers get nearly every grant the budget has: limit per window plus the calls' own time.
    expect(arrivals.length).toBeGreaterThanOrEqual(Math.floor(0.7 * limit * (runMs / windowMs)));
  });

  it('counts a grant never settled until pendingMs plus one window after it was given', async () => {
    const store = new RedisBudgetStore(replicaA(), prefix);
    const givenAt = Date.now();
    expect((await store.tryAcquire('Unsettled', 1, 100, 150)).granted).toBe(true);
    // Still pending: the call may arrive any moment, so a grant is at least a full window away.
    expect(await store.tryAcquire('Unsettled', 1, 100, 150)).toEqual({ granted: false, retryAfterMs: 100 });
    await waitFor('the unsettled grant to leave the window', async () => (await store.tryAcquire('Unsettled', 1, 100, 150)).granted, 2000, 5);
    expect(Date.now() - givenAt).toBeGreaterThanOrEqual(245);
  });

  it('counts a settled grant for one window after its settle, however long its call took', async () => {
    const store = new RedisBudgetStore(replicaA(), prefix);
    const decision = await store.tryAcquire('Settled', 1, 100, 5000);
    if (!decision.granted) throw new Error('expected a grant');
    await sleep(150); // a slow call: longer than the window
    const settledAt = Date.now();
    await decision.grant.settle();
    await waitFor('the settled grant to leave the window', async () => (await store.tryAcquire('Settled', 1, 100, 5000)).granted, 2000, 5);
    expect(Date.now() - settledAt).toBeGreaterThanOrEqual(95);
    expect(Date.now() - settledAt).toBeLessThan(1000);
  });

  it('answers how long until the oldest grant leaves the window once the budget is spent, and grants again after that', async () => {
    const store = new RedisBudgetStore(replicaA(), prefix);
    const windowMs = 300;
    const started = Date.now();
    for (let i = 0; i < 3; i++) expect(await store.tryAcquire('Spent', 3, windowMs, 0)).toMatchObject({ granted: true });
    const refused = await store.tryAcquire('Spent', 3, windowMs, 0);
    const elapsed = Date.now() - started;

    expect(refused.granted).toBe(false);
    const { retryAfterMs } = refused as { retryAfterMs: number };
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(windowMs);
    expect(retryAfterMs).toBeGreaterThanOrEqual(windowMs - elapsed - 1);
    // The replica on the other connection is told the same: the budget is the account's.
    const other = (await new RedisBudgetStore(replicaB(), prefix).tryAcquire('Spent', 3, windowMs, 0)) as { granted: boolean; retryAfterMs: number };
    expect(other.granted).toBe(false);
    expect(other.retryAfterMs).toBeLessThanOrEqual(retryAfterMs);

    await sleep(retryAfterMs + 1);
    expect(await store.tryAcquire('Spent', 3, windowMs, 0)).toMatchObject({ granted: true });
  });

  it('counts each action under its own key and lets Redis expire the log of an idle action after one window', async () => {
    const store = new RedisBudgetStore(replicaA(), prefix);
    expect(await store.tryAcquire('Batch', 1, 1000, 25)).toMatchObject({ granted: true });
    expect(await store.tryAcquire('Exact', 1, 1000, 25)).toMatchObject({ granted: true });
    expect((await store.tryAcquire('Batch', 1, 1000, 25)).granted).toBe(false);

    const ttl = await replicaA().pttl(prefix + 'Batch');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1025);
  });

  it('slows every replica after a throttled answer on one: half the limit at once, the whole again durationMs later', async () => {
    const slowdown = { share: 0.5, durationMs: 400 };
    const [a, b] = [new RedisBudgetStore(replicaA(), prefix), new RedisBudgetStore(replicaB(), prefix)];
    const takeAll = async (store: RedisBudgetStore) => {
      let taken = 0;
      while ((await store.tryAcquire('Throttled', 10, 100, 0, slowdown)).granted) taken++;
      return taken;
    };
    await a.throttled('Throttled', slowdown.durationMs);
    // Redis's clock: a few ms pass between the scripts, so the limit has risen by at most one call.
    const slowed = await takeAll(b);
    expect(slowed).toBeGreaterThanOrEqual(5);
    expect(slowed).toBeLessThanOrEqual(6);
    const ttl = await replicaA().pttl(`{${prefix}Throttled}:throttled`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(400);
    await waitFor('the slowdown to end', async () => (await replicaA().exists(`{${prefix}Throttled}:throttled`)) === 0, 2000, 5);
    await sleep(100); // the slowed grants leave the window
    expect(await takeAll(b)).toBe(10);
  });

  it('keeps the throttle key in the slot of the log key, so one script touches one Redis Cluster slot whatever the prefix', () => {
    for (const prefix of ['presence-graph:budget:', '{fleet-a}:budget:', 'odd{prefix:budget:', '']) {
      const log = `${prefix}BatchQuerySessionByClientIds`;
      expect(calculateSlot(sameSlotKey(log, ':throttled'))).toBe(calculateSlot(log));
    }
    expect(sameSlotKey('{fleet-a}:budget:Batch', ':throttled')).toBe('{fleet-a}:budget:Batch:throttled');
    expect(() => new RedisBudgetStore(replicaA(), 'a}b:')).toThrow('RedisBudgetStore: keyPrefix must not hold a "}" outside a {hash tag}; got "a}b:"');
  });

  it('accepts a window and a pending time of fractional milliseconds', async () => {
    const store = new RedisBudgetStore(replicaA(), prefix);
    expect(await store.tryAcquire('Fractional', 2, 1000.5, 0.25)).toMatchObject({ granted: true });
    expect(await replicaA().pttl(prefix + 'Fractional')).toBeLessThanOrEqual(1001);
  });
});
