import { MemoryBudgetStore, type BudgetDecision, type BudgetGrant, type BudgetStore } from '../presence/budget';
import type { BudgetSlowdown } from '../presence/budget-slowdown';
import { systemClock, type Clock } from '../presence/clock';
import type { Logger } from '../common/logger';
import { SharedOrLocal } from './shared-or-local';

export interface FailoverBudgetStoreOptions {
  /**
   * Replicas sharing the account (UPSTREAM_REPLICAS): while Redis is unreachable each grants
   * `max(1, ⌊limit / replicas⌋)` per window from its own memory, so that all of them cut off together
   * still stay within the account's limit. A replica cannot count its peers without Redis: it is told.
   */
  replicas: number;
  logger: Logger;
  /**
   * How much later than this replica a peer cut off by the same outage may get its own Redis
   * connection back. While a peer is still cut off it grants its share unseen, so a replica that is
   * back keeps within its share for one window plus this long. Set from the Redis client's reconnect
   * pacing (redis-client.ts).
   */
  peerRejoinMs: number;
  now?: Clock;
}

/**
 * The shared budget, and while Redis is down a per-replica share of it. The shares alone would let
 * the account exceed its limit at both edges of an outage, so each edge is covered:
 *
 *   - Redis fails: the grants counted in Redis are unknown to every replica's memory (its peers' ones
 *     always were). A replica therefore grants nothing locally ("hold-down") until one window after
 *     it noticed the outage and after its own calls granted through Redis have ended; its peers do
 *     the same, so by then the calls counted in Redis have left the window, and from then on N
 *     replicas grant at most N shares ≤ limit. Lookups wait (within UPSTREAM_BUDGET_WAIT_MS) rather
 *     than fail.
 *   - Redis is back: peers still cut off keep granting their shares unseen until their own connection
 *     returns. So for one window plus `peerRejoinMs` after this replica is back ("joining"), a call
 *     needs both its share in memory and a grant in Redis: the joining replicas' grants are in Redis
 *     for everyone to see, and each replica, joining or still cut off, stays within its share.
 *
 * While degraded, a call first takes its share and then also tries Redis: that is how the replica
 * notices Redis is back, and such a grant is counted in Redis as well. A share taken for a call that
 * Redis then refuses is settled at once: it makes this replica slower for a window, never the
 * account faster.
 *
 * A throttled answer slows both: the shared store (every replica) when Redis answers, and this
 * replica's memory always, so that the slowdown still holds if Redis fails during it.
 */
export class FailoverBudgetStore implements BudgetStore {
  private readonly local: MemoryBudgetStore;
  private readonly failover: SharedOrLocal;
  private readonly replicas: number;
  private readonly peerRejoinMs: number;
  private readonly now: Clock;
  /**
   * Calls granted through Redis and not yet settled, each with the latest time it may reach the
   * upstream: they extend the hold-down after an outage. One never settled stops counting then.
   */
  private readonly sharedInFlight = new Set<{ latestArrivalMs: number }>();
  /** The latest time a Redis-granted call that has ended may have reached the upstream. */
  private sharedCallsEndedMs = -Infinity;

  constructor(
    private readonly shared: BudgetStore,
    options: FailoverBudgetStoreOptions,
  ) {
    const { replicas, peerRejoinMs } = options;
    if (!Number.isInteger(replicas) || replicas < 1) throw new TypeError(`FailoverBudgetStore: replicas must be a whole number ≥ 1; got ${replicas}`);
    if (!(Number.isFinite(peerRejoinMs) && peerRejoinMs >= 0)) {
      throw new TypeError(`FailoverBudgetStore: peerRejoinMs must be a finite number ≥ 0; got ${peerRejoinMs}`);
    }
    this.replicas = replicas;
    this.peerRejoinMs = peerRejoinMs;
    this.now = options.now ?? systemClock;
    this.local = new MemoryBudgetStore({ now: this.now });
    this.failover = new SharedOrLocal(options.logger, `the upstream QPS budget (per-replica share 1/${replicas})`, this.now);
  }

  get degraded(): boolean {
    return this.failover.degraded;
  }

  /**
   * Never rejects: an outage is noticed (and logged) by the next `tryAcquire`, which knows how to
   * hold down; this replica's own slowdown is recorded whatever Redis does.
   */
  async throttled(action: string, slowdownMs: number): Promise<void> {
    await this.local.throttled(action);
    if (!this.failover.degraded) await this.shared.throttled(action, slowdownMs).catch(() => undefined);
  }

  async tryAcquire(action: string, limit: number, windowMs: number, pendingMs: number, slowdown?: BudgetSlowdown): Promise<BudgetDecision> {
    if (!this.failover.degraded && !this.joining(windowMs)) {
      try {
        return this.tracked(await this.shared.tryAcquire(action, limit, windowMs, pendingMs, slowdown), pendingMs);
      } catch (error) {
        this.failover.lost(error);
        return this.holdDown(windowMs) ?? this.withinShare(action, limit, windowMs, pendingMs, slowdown);
      }
    }
    return this.withinShare(action, limit, windowMs, pendingMs, slowdown);
  }

  /** Degraded or joining: this replica's share first, then Redis when it answers (see the class comment). */
  private async withinShare(action: string, limit: number, windowMs: number, pendingMs: number, slowdown?: BudgetSlowdown): Promise<BudgetDecision> {
    if (this.holdDown(windowMs)) return this.duringHoldDown(action, limit, windowMs, pendingMs, slowdown);
    const local = await this.local.tryAcquire(action, this.share(limit), windowMs, pendingMs, slowdown);
    if (!local.granted) return local;
    let decision: BudgetDecision;
    try {
      decision = this.tracked(await this.shared.tryAcquire(action, limit, windowMs, pendingMs, slowdown), pendingMs);
      this.failover.reached({ perReplicaShareForMs: windowMs + this.peerRejoinMs });
    } catch (error) {
      // Still down: the share decides. Just gone down (this call was joining): hold down first.
      this.failover.lost(error);
      const heldNow = this.holdDown(windowMs);
      if (!heldNow) return local;
      await local.grant.settle();
      return heldNow;
    }
    if (!decision.granted) {
      await local.grant.settle();
      return decision;
    }
    return bothGranted(local.grant, decision.grant);
  }

  /**
   * Redis is asked during the hold-down too, before the share (a failed ask then costs the share
   * nothing): a command that timed out because this replica's event loop stalled on a busy host
   * (ioredis's timer fires before the answer already waiting in the socket is read) is no outage,
   * and Redis answering ends the hold-down at once, where it would otherwise refuse every call of
   * the account for a window or more and fail the lookups queued behind them. What Redis grants
   * then is still capped by the share (joining), so peers cut off by a real outage stay covered.
   */
  private async duringHoldDown(action: string, limit: number, windowMs: number, pendingMs: number, slowdown?: BudgetSlowdown): Promise<BudgetDecision> {
    let decision: BudgetDecision;
    try {
      decision = this.tracked(await this.shared.tryAcquire(action, limit, windowMs, pendingMs, slowdown), pendingMs);
    } catch {
      return this.holdDown(windowMs) ?? { granted: false, retryAfterMs: 1 };
    }
    this.failover.reached({ perReplicaShareForMs: windowMs + this.peerRejoinMs });
    if (!decision.granted) return decision;
    const local = await this.local.tryAcquire(action, this.share(limit), windowMs, pendingMs, slowdown);
    if (local.granted) return bothGranted(local.grant, decision.grant);
    await decision.grant.settle();
    return local;
  }

  /** This replica's share of the account's limit while Redis is not (or not surely) shared. */
  private share(limit: number): number {
    return Math.max(1, Math.floor(limit / this.replicas));
  }

  /** Counts a Redis grant as in flight until it is settled, or until pendingMs have passed. */
  private tracked(decision: BudgetDecision, pendingMs: number): BudgetDecision {
    if (!decision.granted) return decision;
    this.forgetArrived();
    const call = { latestArrivalMs: this.now() + pendingMs };
    this.sharedInFlight.add(call);
    const { grant } = decision;
    const settle = async () => {
      if (this.sharedInFlight.delete(call)) this.sharedCallsEndedMs = Math.max(this.sharedCallsEndedMs, this.now());
      await grant.settle();
    };
    return { granted: true, grant: { settle } };
  }

  /** Calls past their latest arrival have surely reached the upstream: they count as ended then. */
  private forgetArrived(): void {
    const now = this.now();
    for (const call of this.sharedInFlight) {
      if (call.latestArrivalMs > now) continue;
      this.sharedInFlight.delete(call);
      this.sharedCallsEndedMs = Math.max(this.sharedCallsEndedMs, call.latestArrivalMs);
    }
  }

  /**
   * Refuses every call after an outage is noticed until one window has passed since then and since
   * the last of this replica's Redis-granted calls ended (see the class comment).
   */
  private holdDown(windowMs: number): BudgetDecision | undefined {
    const since = this.failover.degradedSinceMs;
    if (since === undefined) return undefined;
    this.forgetArrived();
    const now = this.now();
    // A call still in flight may reach the upstream at any moment: a full window from now, at least.
    const callsEndedMs = this.sharedInFlight.size > 0 ? now : this.sharedCallsEndedMs;
    const waitMs = Math.max(since, callsEndedMs) + windowMs - now;
    return waitMs > 0 ? { granted: false, retryAfterMs: Math.ceil(waitMs) } : undefined;
  }

  private joining(windowMs: number): boolean {
    const rejoinedAtMs = this.failover.rejoinedAtMs;
    return rejoinedAtMs !== undefined && this.now() - rejoinedAtMs < windowMs + this.peerRejoinMs;
  }
}

/** One call granted by both this replica's share and Redis: settling it settles both. */
function bothGranted(local: BudgetGrant, shared: BudgetGrant): BudgetDecision {
  return { granted: true, grant: { settle: async () => void (await Promise.all([local.settle(), shared.settle()])) } };
}
