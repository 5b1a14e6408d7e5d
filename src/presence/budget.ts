import { sleep as defaultSleep, systemClock, type Clock, type Sleep } from './clock';
import { UpstreamThrottledError } from './errors';
import { assertNumberOption } from './options';

/** A store's answer: the call may go now, or not before `retryAfterMs` from now. */
export type BudgetDecision = { granted: true } | { granted: false; retryAfterMs: number };

/**
 * Where grants of an account-wide call budget are counted. The store is asked and answers in one step,
 * so a shared implementation can be one atomic script (Redis: ZREMRANGEBYSCORE the expired grants,
 * ZCARD, then ZADD now or answer oldest + window − now), with the store's own clock. The memory store
 * below serves one process; several replicas sharing an account need the shared one.
 */
export interface BudgetStore {
  /** Grants at most `limit` calls of `action` in any rolling `windowMs`. */
  tryAcquire(action: string, limit: number, windowMs: number): Promise<BudgetDecision>;
}

/**
 * A sliding log per action: the times of the grants still inside the window. Not a fixed window: a
 * counter reset every second lets `limit` calls through at the end of one second and `limit` more at
 * the start of the next, 2× the limit within a few milliseconds. Memory is at most `limit` numbers
 * per action.
 */
export class MemoryBudgetStore implements BudgetStore {
  private readonly logs = new Map<string, number[]>();
  private readonly now: Clock;

  constructor(options: { now?: Clock } = {}) {
    this.now = options.now ?? systemClock;
  }

  async tryAcquire(action: string, limit: number, windowMs: number): Promise<BudgetDecision> {
    const now = this.now();
    let log = this.logs.get(action);
    if (!log) this.logs.set(action, (log = []));
    // A grant at time t counts within (t, t + windowMs]: once `now - t >= windowMs` it has left.
    while (log.length > 0 && now - log[0] >= windowMs) log.shift();
    if (log.length < limit) {
      log.push(now);
      return { granted: true };
    }
    // The oldest grant of the window leaves first; only then can a call go.
    return { granted: false, retryAfterMs: log[log.length - limit] + windowMs - now };
  }
}

export interface CallBudgetOptions {
  store: BudgetStore;
  /** The upstream action this budget is for, e.g. `BatchQuerySessionByClientIds` (the store's key). */
  action: string;
  /** Calls per rolling second the upstream allows for the account (upstream-api.md: 100 batch, 500 exact). */
  limitPerSecond: number;
  /**
   * Widens the rolling window beyond one second, @default 25. The upstream counts calls when they
   * arrive, not when we granted them: two calls granted exactly 1000 ms apart can arrive closer
   * together when the first meets more network delay than the second, and then the upstream sees
   * `limit + 1` calls in one of its seconds and answers SystemOverFlow. A window of 1000 + margin ms
   * keeps every arrival second within the limit as long as jitter stays under the margin, at a cost
   * of limit · margin / 1000 calls per second (2.5 of 100 with the defaults).
   */
  safetyMarginMs?: number;
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
  readonly windowMs: number;
  private readonly store: BudgetStore;
  private readonly now: Clock;
  private readonly sleep: Sleep;

  constructor(options: CallBudgetOptions) {
    assertNumberOption('CallBudget', 'limitPerSecond', options.limitPerSecond, { min: 1, integer: true });
    const safetyMarginMs = options.safetyMarginMs ?? 25;
    assertNumberOption('CallBudget', 'safetyMarginMs', safetyMarginMs);
    if (!options.store) throw new TypeError('CallBudget: store is required');
    if (!options.action) throw new TypeError(`CallBudget: action must be a non-empty string; got ${String(options.action)}`);
    this.store = options.store;
    this.action = options.action;
    this.limitPerSecond = options.limitPerSecond;
    this.windowMs = 1000 + safetyMarginMs;
    this.now = options.now ?? systemClock;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /**
   * Resolves once one call may go. Waits as long as the store says, but never past `deadlineMs`
   * (clock time): when the next grant would come later, throws `UpstreamThrottledError` with the
   * wait the store announced. The store is always asked once, so a deadline already past still
   * gets a call that is available at once. Rejects with `signal.reason` when `signal` aborts.
   */
  async acquire(deadlineMs: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const decision = await this.store.tryAcquire(this.action, this.limitPerSecond, this.windowMs);
      if (decision.granted) return;
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
