import { sleep as defaultSleep, systemClock, type Clock, type Sleep } from './clock';
import { UpstreamThrottledError } from './errors';
import { assertNumberOption } from './options';

export interface RetryPolicyOptions {
  /**
   * A safety bound on attempts in all, the first included (1 means never retry): the time, not
   * this count, is what normally ends the retries (see the class comment).
   */
  maxAttempts: number;
  /** The backoff ceiling before the first retry; it doubles with each retry. */
  baseDelayMs: number;
  /** No retry starts once this much time has passed since the first attempt began. */
  totalMs: number;
  /** The highest backoff ceiling, @default 1000. */
  maxDelayMs?: number;
  /** A number in [0, 1), @default Math.random. */
  random?: () => number;
  now?: Clock;
  sleep?: Sleep;
}

/** What each attempt is told: its index (0 for the first) and when the whole run must end. */
export interface AttemptContext {
  attempt: number;
  deadlineMs: number;
}

/**
 * Retries that spend the time they are given: a failed attempt is retried as long as the next retry
 * can start before `totalMs` has passed since the first attempt, with exponential backoff and full
 * jitter: before retry n (n ≥ 1) it waits a uniformly random time in
 * [0, min(maxDelayMs, baseDelayMs · 2^(n−1))). Full jitter spreads the retries of many callers that
 * failed together (one throttled burst) instead of sending them back in step.
 *
 * Why time and not a count: against an upstream failing a quarter of its calls at random, three
 * attempts lose 0.25³ ≈ 1.6 % of calls although the time allowed holds about ten. So
 * `maxAttempts` is only a bound on what one call may cost when every attempt fails fast.
 *
 * Only errors marked `retryable === true` are retried (throttling, transient faults). A throttled
 * error that the upstream did not answer (our own budget had no room before the deadline) carries
 * when the budget could grant again: its `retryAfterMs` is a floor. A throttled answer from the
 * upstream (SystemOverFlow, Throttling.*) is not: it slows the account's budget instead, which
 * every retry waits for (budget.ts), rather than holding only the call that got it for a second.
 */
export class RetryPolicy {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly totalMs: number;
  private readonly random: () => number;
  private readonly now: Clock;
  private readonly sleep: Sleep;

  constructor(options: RetryPolicyOptions) {
    assertNumberOption('RetryPolicy', 'maxAttempts', options.maxAttempts, { min: 1, integer: true });
    assertNumberOption('RetryPolicy', 'baseDelayMs', options.baseDelayMs);
    assertNumberOption('RetryPolicy', 'totalMs', options.totalMs);
    this.maxDelayMs = options.maxDelayMs ?? 1000;
    assertNumberOption('RetryPolicy', 'maxDelayMs', this.maxDelayMs);
    this.maxAttempts = options.maxAttempts;
    this.baseDelayMs = options.baseDelayMs;
    this.totalMs = options.totalMs;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? systemClock;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /**
   * Runs `attempt` until it resolves, and rethrows the last error once it is not retryable, the
   * attempts are used up, or the next retry would start after the deadline. Rejects with
   * `signal.reason` when `signal` aborts during a backoff.
   */
  async execute<T>(attempt: (context: AttemptContext) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const deadlineMs = this.now() + this.totalMs;
    for (let index = 0; ; index++) {
      try {
        return await attempt({ attempt: index, deadlineMs });
      } catch (error) {
        const delayMs = this.delayBeforeRetry(index + 1, error);
        if (delayMs === undefined || this.now() + delayMs > deadlineMs) throw error;
        await this.sleep(delayMs, signal);
      }
    }
  }

  /** The wait before retry number `retry` (1 for the first), or `undefined` when there is none. */
  private delayBeforeRetry(retry: number, error: unknown): number | undefined {
    if (retry >= this.maxAttempts || (error as { retryable?: unknown } | null)?.retryable !== true) return undefined;
    const ceilingMs = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (retry - 1));
    const jitteredMs = this.random() * ceilingMs;
    const budgetRefusal = error instanceof UpstreamThrottledError && error.upstream === undefined;
    return budgetRefusal ? Math.max(jitteredMs, error.retryAfterMs) : jitteredMs;
  }
}
