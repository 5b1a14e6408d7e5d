import { sleep as defaultSleep, systemClock, type Clock, type Sleep } from './clock';
import { UpstreamThrottledError } from './errors';
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
  /** Grants a call of `action` unless `limit` grants already count in the rolling `windowMs`. */
  tryAcquire(action: string, limit: number, windowMs: number, pendingMs: number): Promise<BudgetDecision>;
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
  private readonly now: Clock;

  constructor(options: { now?: Clock } = {}) {
    this.now = options.now ?? systemClock;
  }

  async tryAcquire(action: string, limit: number, windowMs: number, pendingMs: number): Promise<BudgetDecision> {
    const now = this.now();
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
  private readonly store: BudgetStore;
  private readonly now: Clock;
  private readonly sleep: Sleep;

  constructor(options: CallBudgetOptions) {
    assertNumberOption('CallBudget', 'limitPerSecond', options.limitPerSecond, { min: 1, integer: true });
    const maxCallMs = options.maxCallMs ?? 25;
    assertNumberOption('CallBudget', 'maxCallMs', maxCallMs);
    if (!options.store) throw new TypeError('CallBudget: store is required');
    if (!options.action) throw new TypeError(`CallBudget: action must be a non-empty string; got ${String(options.action)}`);
    this.store = options.store;
    this.action = options.action;
    this.limitPerSecond = options.limitPerSecond;
    this.maxCallMs = maxCallMs;
    this.now = options.now ?? systemClock;
    this.sleep = options.sleep ?? defaultSleep;
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
      const decision = await this.store.tryAcquire(this.action, this.limitPerSecond, this.windowMs, this.maxCallMs);
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
