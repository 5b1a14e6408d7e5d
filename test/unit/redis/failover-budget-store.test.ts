import { MemoryBudgetStore, type BudgetDecision, type BudgetStore } from '../../../src/presence/budget';
import type { BudgetSlowdown } from '../../../src/presence/budget-slowdown';
import { FailoverBudgetStore } from '../../../src/redis/failover-budget-store';
import { capturedLogger, linesSaying } from '../../support/captured-logs';
import { mostInAnyWindow } from '../../support/rolling-window';

/**
 * The budget's failover policy, on a manual clock: "Redis" is one MemoryBudgetStore shared by the
 * replicas, each reaching it through its own connection that can be cut. The real-Redis side of the
 * same policy is in failover-stores.test.ts.
 */
let nowMs = 0;
const clock = () => nowMs;

/** One replica's connection to the shared store: it fails while `down`, like ioredis without offline queue. */
class Connection implements BudgetStore {
  down = false;
  constructor(private readonly redis: BudgetStore) {}
  tryAcquire(action: string, limit: number, windowMs: number, pendingMs: number, slowdown?: BudgetSlowdown): Promise<BudgetDecision> {
    if (this.down) return Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
    return this.redis.tryAcquire(action, limit, windowMs, pendingMs, slowdown);
  }
  throttled(action: string, slowdownMs: number): Promise<void> {
    if (this.down) return Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
    return this.redis.throttled(action, slowdownMs);
  }
}

const LIMIT = 10;
const WINDOW_MS = 1000;
const PEER_REJOIN_MS = 3000;
const PENDING_MS = 7000;

function replica(redis: BudgetStore, replicas = 2) {
  const connection = new Connection(redis);
  const { logger, lines } = capturedLogger();
  const store = new FailoverBudgetStore(connection, { replicas, logger, peerRejoinMs: PEER_REJOIN_MS, now: clock });
  /** Takes every grant the store gives now, for calls that end at once; returns how many. */
  const takeAll = async (grants: number[]) => {
    let taken = 0;
    for (;;) {
      const decision = await store.tryAcquire('Batch', LIMIT, WINDOW_MS, PENDING_MS);
      if (!decision.granted) return taken;
      grants.push(nowMs);
      await decision.grant.settle();
      taken++;
    }
  };
  return { connection, store, lines, takeAll };
}

beforeEach(() => (nowMs = 1_000_000));

describe('FailoverBudgetStore', () => {
  it('grants through the shared store while Redis answers, the whole limit per window', async () => {
    const redis = new MemoryBudgetStore({ now: clock });
    const a = replica(redis);
    expect(await a.takeAll([])).toBe(LIMIT);
    expect(a.store.degraded).toBe(false);
    // Whatever a peer took through Redis is gone for this replica too.
    const b = replica(redis);
    expect(await b.takeAll([])).toBe(0);
  });

  it('holds every call back for one window once Redis fails, then grants this replica its share per window', async () => {
    const a = replica(new MemoryBudgetStore({ now: clock }));
    a.connection.down = true;

    expect(await a.store.tryAcquire('Batch', LIMIT, WINDOW_MS, PENDING_MS)).toEqual({ granted: false, retryAfterMs: WINDOW_MS });
    expect(a.store.degraded).toBe(true);
    nowMs += 400;
    expect(await a.store.tryAcquire('Batch', LIMIT, WINDOW_MS, PENDING_MS)).toEqual({ granted: false, retryAfterMs: 600 });
    nowMs += 600;
    expect(await a.takeAll([])).toBe(LIMIT / 2);
    nowMs += WINDOW_MS;
    expect(await a.takeAll([])).toBe(LIMIT / 2);
  });

  it('logs the outage once, as an error, however many calls fail, and the recovery once', async () => {
    const a = replica(new MemoryBudgetStore({ now: clock }));
    a.connection.down = true;
    for (let i = 0; i < 5; i++, nowMs += 700) await a.takeAll([]);
    a.connection.down = false;
    for (let i = 0; i < 5; i++, nowMs += 700) await a.takeAll([]);

    const outage = linesSaying(a.lines, 'Redis unreachable: the upstream QPS budget (per-replica share 1/2) falls back');
    expect(outage).toHaveLength(1);
    // In our words: ioredis' internals ("Stream isn't writeable and enableOfflineQueue …") say nothing to an operator.
    expect(outage[0]).toMatchObject({ level: 50, reason: 'no connection to Redis' });
    expect(JSON.stringify(a.lines)).not.toMatch(/enableOfflineQueue|Stream isn't writeable/);
    const recovery = linesSaying(a.lines, 'Redis reachable again: the upstream QPS budget (per-replica share 1/2) is shared again');
    expect(recovery).toHaveLength(1);
    expect(recovery[0]).toMatchObject({ level: 40, perReplicaShareForMs: WINDOW_MS + PEER_REJOIN_MS });
  });

  it('keeps to its share, counted in Redis too, for one window plus peerRejoinMs after Redis is back, then uses the whole budget', async () => {
    const redis = new MemoryBudgetStore({ now: clock });
    const a = replica(redis);
    a.connection.down = true;
    await a.takeAll([]);
    nowMs += WINDOW_MS;
    a.connection.down = false;

    const rejoinedAt = nowMs;
    expect(await a.takeAll([])).toBe(LIMIT / 2);
    expect(a.store.degraded).toBe(false);
    // Those grants are in Redis for the peers: a replica on another connection gets only the rest.
    expect(await replica(redis).takeAll([])).toBe(LIMIT / 2);

    nowMs = rejoinedAt + WINDOW_MS + PEER_REJOIN_MS - 1;
    expect(await a.takeAll([])).toBe(LIMIT / 2);
    nowMs = rejoinedAt + 2 * WINDOW_MS + PEER_REJOIN_MS;
    expect(await a.takeAll([])).toBe(LIMIT);
  });

  it('holds back, after Redis fails, until one window after its calls in flight through Redis have ended', async () => {
    const a = replica(new MemoryBudgetStore({ now: clock }));
    const inFlight = await a.store.tryAcquire('Batch', LIMIT, WINDOW_MS, PENDING_MS);
    if (!inFlight.granted) throw new Error('expected a grant');
    a.connection.down = true;
    await a.takeAll([]);
    nowMs += 2 * WINDOW_MS;
    // That call may still reach the upstream: nothing goes locally yet.
    expect(await a.store.tryAcquire('Batch', LIMIT, WINDOW_MS, PENDING_MS)).toEqual({ granted: false, retryAfterMs: WINDOW_MS });
    await inFlight.grant.settle();
    nowMs += WINDOW_MS - 1;
    expect(await a.takeAll([])).toBe(0);
    nowMs += 1;
    expect(await a.takeAll([])).toBe(LIMIT / 2);
  });

  it('holds back for a call whose caller never settles it only until pendingMs after its grant', async () => {
    const a = replica(new MemoryBudgetStore({ now: clock }));
    expect((await a.store.tryAcquire('Batch', LIMIT, WINDOW_MS, 25)).granted).toBe(true);
    a.connection.down = true;
    await a.takeAll([]);
    nowMs += WINDOW_MS;
    expect(await a.store.tryAcquire('Batch', LIMIT, WINDOW_MS, 25)).toEqual({ granted: false, retryAfterMs: 25 });
    nowMs += 25;
    expect(await a.takeAll([])).toBe(LIMIT / 2);
  });

  it('takes at least one call per window when the share would round down to none', async () => {
    const a = replica(new MemoryBudgetStore({ now: clock }), 20);
    a.connection.down = true;
    await a.takeAll([]);
    nowMs += WINDOW_MS;
    expect(await a.takeAll([])).toBe(1);
  });

  it('never lets replicas exceed the limit in any window when Redis fails under full load and comes back to each at a different time', async () => {
    const redis = new MemoryBudgetStore({ now: clock });
    const replicas = [replica(redis, 3), replica(redis, 3), replica(redis, 3)];
    const grants: number[] = [];
    const redisDownAt = nowMs + 2_500;
    const redisBackAt = redisDownAt + 4_000;
    // Each replica's connection returns up to PEER_REJOIN_MS after Redis does (its reconnect pacing).
    const reconnectsAt = [redisBackAt, redisBackAt + 1_700, redisBackAt + PEER_REJOIN_MS];
    const end = redisBackAt + 10_000;

    for (; nowMs < end; nowMs += 7) {
      for (const [i, r] of replicas.entries()) {
        r.connection.down = nowMs >= redisDownAt && nowMs < reconnectsAt[i];
        await r.takeAll(grants);
      }
    }

    expect(mostInAnyWindow(grants, WINDOW_MS)).toBeLessThanOrEqual(LIMIT);
    // And the budget stays in use: every replica granted through the outage, and all of it afterwards.
    const during = grants.filter((t) => t >= redisDownAt + WINDOW_MS && t < redisBackAt);
    expect(during.length).toBeGreaterThanOrEqual(3 * 3 * Math.floor((redisBackAt - redisDownAt - WINDOW_MS) / WINDOW_MS));
    const afterwards = grants.filter((t) => t >= end - 4 * WINDOW_MS);
    expect(afterwards.length).toBeGreaterThanOrEqual(3 * LIMIT);
    expect(replicas.every((r) => !r.store.degraded)).toBe(true);
  });

  it('slows every replica through Redis after a throttled answer, and keeps slowing this one in memory while Redis is down', async () => {
    const slowdown = { share: 0.5, durationMs: 5 * WINDOW_MS };
    const takeSlowed = async (store: FailoverBudgetStore) => {
      let taken = 0;
      for (;;) {
        const decision = await store.tryAcquire('Batch', LIMIT, WINDOW_MS, PENDING_MS, slowdown);
        if (!decision.granted) return taken;
        await decision.grant.settle();
        taken++;
      }
    };
    const redis = new MemoryBudgetStore({ now: clock });
    const [a, b] = [replica(redis), replica(redis)];
    await a.store.throttled('Batch', slowdown.durationMs);
    expect(await takeSlowed(b.store)).toBe(LIMIT / 2);

    a.connection.down = true;
    await expect(a.store.throttled('Batch', slowdown.durationMs)).resolves.toBeUndefined();
    await takeSlowed(a.store); // notices the outage: one window of hold-down
    nowMs += WINDOW_MS;
    // Its share is LIMIT / 2 = 5 calls; slowed, 1 s into a 5 s slowdown: ⌊5 · (0.5 + 0.5 · 1/5)⌋ = 3.
    expect(await takeSlowed(a.store)).toBe(3);
  });

  it('rejects a replica count or a rejoin time it cannot use, naming the option', () => {
    const { logger } = capturedLogger();
    const shared = new MemoryBudgetStore();
    expect(() => new FailoverBudgetStore(shared, { replicas: 0, logger, peerRejoinMs: 0 })).toThrow(/replicas must be a whole number ≥ 1; got 0/);
    expect(() => new FailoverBudgetStore(shared, { replicas: 2, logger, peerRejoinMs: -1 })).toThrow(/peerRejoinMs must be a finite number ≥ 0; got -1/);
  });
});
