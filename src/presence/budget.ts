import { sleep as defaultSleep, systemClock, type Clock, type Sleep } from './clock';
import { UpstreamThrottledError } from './errors';
import { slowedLimit, type BudgetSlowdown } from './budget-slowdown';
import { assertNumberOption } from './options';

/**
 * A granted call. The upstream counts a call when it arrives, which is some time after the grant and
 * before the answer (or the failure) comes back: so a grant counts from the moment it is given until
 * one rolling window after `settle`, the moment the caller knows the call has ended. Whatever the
 * delay between grant and arrival (a cold connection, a busy event loop, the network), the upstream
 * can then never see more calls in one of its seconds than the store granted in a window.
 */
export interface BudgetGrant {
  /** The call has ended (answered, failed, or was never sent). Never rejects: a lost settle only over-counts. */
  settle(): Promise<void>;
}

/** A store's answer: the call may go now, or not before `retryAfterMs` from now. */
export type BudgetDecision = { granted: true; grant: BudgetGrant } | { granted: false; retryAfterMs: number };

/**
 * Where grants of an account-wide call budget are counted. The store is asked and answers in one step,
 * so a shared implementation can be one atomic script (Redis: ZREMRANGEBYSCORE the expired grants,
 * ZCARD, then ZADD or answer how long until one leaves), with the store's own clock. The memory store
 * below serves one process; several replicas sharing an account need the shared one.
 *
 * Each grant is kept under the latest time its call may reach the upstream: until it is settled,
 * `pendingMs` after the grant (the caller's bound on a call's duration); once settled, the settle
 * time. It counts while that time is less than `windowMs` ago.
 */
export interface BudgetStore {
  /**
   * Grants a call of `action` unless `limit` grants already count in the rolling `windowMs`; with
   * `slowdown`, the limit is lowered after a throttled answer (`slowedLimit`).
   */
  tryAcquire(action: string, limit: number, windowMs: number, pendingMs: number, slowdown?: BudgetSlowdown): Promise<BudgetDecision>;
  /**
   * The upstream answered a call of `action` with throttling, now (the store's clock): grants of
   * `action` slow down for `slowdownMs` from now. May reject (a shared store unreachable).
   */
  throttled(action: string, slowdownMs: number): Promise<void>;
}

/** One counted grant: the latest time its call may reach the upstream. */
interface CountedGrant {
  latestArrivalMs: number;
}

/**
 * A sliding log per action: the grants still counted, earliest latest-arrival first. Not a fixed
 * window: a counter reset every second lets `limit` calls through at the end of one second and `limit`
 * more at the start of the next, 2× the limit within a few milliseconds. Memory: about `limit`
 * entries per action (the grants of the last window and those still in flight).
 */
export class MemoryBudgetStore implements BudgetStore {
  private readonly logs = new Map<string, CountedGrant[]>();
  /** Per action, when the upstream last throttled it (`throttled`). */
  private readonly throttledAtMs = new Map<string, number>();
  private readonly now: Clock;

  constructor(options: { now?: Clock } = {}) {
    this.now = options.now ?? systemClock;
  }

  async throttled(action: string): Promise<void> {
    this.throttledAtMs.set(action, this.now());
  }

  async tryAcquire(action: string, fullLimit: number, windowMs: number, pendingMs: number, slowdown?: BudgetSlowdown): Promise<BudgetDecision> {
    const now = this.now();
    const limit = slowedLimit(fullLimit, now - (this.throttledAtMs.get(action) ?? -Infinity), slowdown);
    let log = this.logs.get(action);
    if (!log) this.logs.set(action, (log = []));
    // A grant whose call reached the upstream by time t counts within [t, t + windowMs).
    while (log.length > 0 && now - log[0].latestArrivalMs >= windowMs) log.shift();
    if (log.length < limit) {
      const entry: CountedGrant = { latestArrivalMs: now + pendingMs };
      insertByArrival(log, entry);
      let settled = false;
      const settle = async () => {
        if (!settled) this.settle(log, entry);
        settled = true;
      };
      return { granted: true, grant: { settle } };
    }
    // The grant that leaves first frees the next call; one still pending leaves a window after it settles.
    // Under a slowdown the limit only rises with time, so this wait is never too short.
    return { granted: false, retryAfterMs: Math.min(log[log.length - limit].latestArrivalMs, now) + windowMs - now };
  }

  private settle(log: CountedGrant[], entry: CountedGrant): void {
    const index = log.indexOf(entry);
    if (index >= 0) log.splice(index, 1);
    // Re-inserted even when it had already left: the call may have arrived just now.
    entry.latestArrivalMs = this.now();
    insertByArrival(log, entry);
  }
}

function insertByArrival(log: CountedGrant[], entry: CountedGrant): void {
  let index = log.length;
  while (index > 0 && log[index - 1].latestArrivalMs > entry.latestArrivalMs) index--;
  log.splice(index, 0, entry);
}

export interface CallBudgetOptions {
  store: BudgetStore;
  /** The upstream action this budget is for, e.g. `BatchQuerySessionByClientIds` (the store's key). */
  action: string;
  /** Calls per rolling second the upstream allows for the account (upstream-api.md: 100 batch, 500 exact). */
  limitPerSecond: number;
  /**
   * How long after its grant a call may still reach the upstream if it is not settled before, @default 25.
   * Callers that settle every grant when its call ends pass their longest call (connect plus read
   * timeouts), so that a call stuck in a slow connect still counts. Callers that never settle rely on
   * the default: their calls are assumed to arrive within 25 ms of the grant.
   */
  maxCallMs?: number;
  /** The share of `limitPerSecond` granted right after a throttled answer (`throttled`), 0 < share ≤ 1, @default 0.5. */
  slowdownShare?: number;
  /** How long the limit takes to climb back to whole after the last throttled answer; 0: no slowdown, @default 2000. */
  slowdownMs?: number;
  now?: Clock;
  sleep?: Sleep;
}

/**
 * One upstream action's call budget, shared by every request of the process (and, through a shared
 * store, by every replica). `acquire` waits for a grant on timers, never in a busy loop.
 */
export class CallBudget {
  readonly action: string;
  readonly limitPerSecond: number;
  /** The upstream's rolling second. No margin for network jitter: a grant counts until its call has ended. */
  readonly windowMs = 1000;
  readonly maxCallMs: number;
  readonly slowdown: Readonly<BudgetSlowdown>;
  private readonly store: BudgetStore;
  private readonly now: Clock;
  private readonly sleep: Sleep;

  constructor(options: CallBudgetOptions) {
    assertNumberOption('CallBudget', 'limitPerSecond', options.limitPerSecond, { min: 1, integer: true });
    const maxCallMs = options.maxCallMs ?? 25;
    assertNumberOption('CallBudget', 'maxCallMs', maxCallMs);
    const share = options.slowdownShare ?? 0.5;
    if (!(typeof share === 'number' && share > 0 && share <= 1)) {
      throw new TypeError(`CallBudget: slowdownShare must be a number more than 0 and at most 1; got ${String(share)}`);
    }
    const durationMs = options.slowdownMs ?? 2000;
    assertNumberOption('CallBudget', 'slowdownMs', durationMs);
    if (!options.store) throw new TypeError('CallBudget: store is required');
    if (!options.action) throw new TypeError(`CallBudget: action must be a non-empty string; got ${String(options.action)}`);
    this.store = options.store;
    this.action = options.action;
    this.limitPerSecond = options.limitPerSecond;
    this.maxCallMs = maxCallMs;
    this.slowdown = Object.freeze({ share, durationMs });
    this.now = options.now ?? systemClock;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /**
   * The upstream throttled a call (SystemOverFlow, Throttling.*): every call of this action on the
   * store, from this process or (shared store) any replica, slows down for `slowdownMs`, rather than
   * only the call that got it. Why: the upstream counts the account, not one call (upstream-api.md:
   * 100 calls/s per account, "retry with backoff, slow down"); another caller sharing the account, or
   * a limit lower than UPSTREAM_BATCH_QPS, is invisible to our own count. Never rejects: a store that
   * cannot record it leaves the pace as it was.
   */
  async throttled(): Promise<void> {
    if (this.slowdown.durationMs > 0) await this.store.throttled(this.action, this.slowdown.durationMs).catch(() => undefined);
  }

  /**
   * Resolves with a grant once one call may go; settle it when the call has ended (see BudgetGrant).
   * Waits as long as the store says, but never past `deadlineMs` (clock time): when the next grant
   * would come later, throws `UpstreamThrottledError` with the wait the store announced. The store
   * is always asked once, so a deadline already past still gets a call that is available at once.
   * Rejects with `signal.reason` when `signal` aborts.
   */
  async acquire(deadlineMs: number, signal?: AbortSignal): Promise<BudgetGrant> {
    for (;;) {
      const decision = await this.store.tryAcquire(this.action, this.limitPerSecond, this.windowMs, this.maxCallMs, this.slowdown);
      if (decision.granted) return decision.grant;
      if (this.now() + decision.retryAfterMs > deadlineMs) {
        throw new UpstreamThrottledError(
          `The ${this.action} budget of ${this.limitPerSecond} calls per second has no room in time; retry after ${decision.retryAfterMs} ms`,
          decision.retryAfterMs,
        );
      }
      // Another waiter may take the freed grant first; then the store names the next wait.
      await this.sleep(decision.retryAfterMs, signal);
    }
  }
}
