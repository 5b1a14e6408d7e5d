import { systemClock, type Clock } from './clock';
import { RateLimitedError } from './errors';
import { assertNumberOption } from './options';

export interface FairShareOptions {
  /**
   * Client ID lookups one caller may make per second, on average. A caller may also spend one
   * second's worth at once (the bucket holds `lookupsPerSecond` tokens), so a burst of one large
   * request is fine while a sustained flood is not.
   */
  lookupsPerSecond: number;
  /** Callers remembered before idle ones (whose bucket has refilled) are forgotten. @default 10000 */
  maxCallers?: number;
  clock?: Clock;
}

/** What one request may spend of its caller's share: `granted` of the `count` asked, now. */
export interface LookupGrant {
  granted: number;
  /** When the lookups not granted could be: 0 when all were. */
  retryAfterMs: number;
}

/** One caller's share, as a per-request loader sees it (transport-free: it knows no caller names). */
export interface LookupAllowance {
  take(count: number): LookupGrant;
}

/**
 * Spends `count` lookups of `allowance` (everything is granted without one): the grant, and the error
 * of the lookups over it, one error shared by all of them, or undefined when all were granted.
 */
export function spend(allowance: LookupAllowance | undefined, count: number): { granted: number; overShare: RateLimitedError | undefined } {
  if (!allowance || count === 0) return { granted: count, overShare: undefined };
  const { granted, retryAfterMs } = allowance.take(count);
  if (granted >= count) return { granted, overShare: undefined };
  const message = `This caller has used its share of lookups per second (CALLER_LOOKUPS_PER_SECOND); retry after ${retryAfterMs} ms`;
  return { granted, overShare: new RateLimitedError(message, retryAfterMs) };
}

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

/**
 * Per-caller token buckets of Client ID lookups: one per process, shared by every request. The
 * account's budget (UPSTREAM_BATCH_QPS calls of 10 IDs) is shared by all callers; without a share
 * each, one caller polling hard would leave the others waiting on UPSTREAM_THROTTLED. So what a
 * lookup spends is the account's budget: a key the cache answers fresh costs nothing, nor does one
 * whose lookup is already under way for another request (the dispatcher spends only the rest), and
 * any number of callers may read the same cached statuses as often as they like. Exact lookups
 * always go upstream and always spend.
 *
 * In memory and per replica: N replicas behind a balancer let a caller spend up to N shares. That is
 * a bound on unfairness, not on cost: the account budget (shared through Redis) still caps the bill.
 */
export class FairShare {
  private readonly buckets = new Map<string, Bucket>();
  private readonly ratePerMs: number;
  private readonly capacity: number;
  private readonly maxCallers: number;
  private readonly clock: Clock;

  constructor(options: FairShareOptions) {
    assertNumberOption('FairShare', 'lookupsPerSecond', options.lookupsPerSecond, { min: 1 });
    assertNumberOption('FairShare', 'maxCallers', options.maxCallers ?? 10_000, { min: 1, integer: true });
    this.capacity = options.lookupsPerSecond;
    this.ratePerMs = options.lookupsPerSecond / 1000;
    this.maxCallers = options.maxCallers ?? 10_000;
    this.clock = options.clock ?? systemClock;
  }

  /** The allowance of one caller, named by whatever identifies it (API key name, JWT subject, address). */
  allowanceFor(caller: string): LookupAllowance {
    return { take: (count) => this.take(caller, count) };
  }

  /** Grants as many of `count` lookups as the caller's bucket holds; never waits. */
  take(caller: string, count: number): LookupGrant {
    const now = this.clock();
    const bucket = this.refilled(caller, now);
    const granted = Math.min(count, Math.floor(bucket.tokens));
    bucket.tokens -= granted;
    const missing = count - granted;
    // Time until the bucket holds what was refused, so a retry of exactly those lookups can pass.
    const retryAfterMs = missing > 0 ? Math.ceil((missing - bucket.tokens) / this.ratePerMs) : 0;
    return { granted, retryAfterMs };
  }

  /**
   * Grants all `count` or none of them, spending nothing when it refuses: for work that cannot be
   * done in part (a batch of operations, a subscription's new devices), where spending a refused
   * part would charge the caller for nothing.
   */
  takeAll(caller: string, count: number): LookupGrant {
    const bucket = this.refilled(caller, this.clock());
    if (bucket.tokens >= count) {
      bucket.tokens -= count;
      return { granted: count, retryAfterMs: 0 };
    }
    // More than a full bucket can never be granted at once: the retry is after a full refill, and refused again.
    return { granted: 0, retryAfterMs: this.refillMs(bucket.tokens, count) };
  }

  /**
   * How long until `count` could be granted at once (0: now), spending nothing: for a refusal decided
   * before the work is even read (an HTTP request over its caller's share, before its body), which
   * takeAll then charges in full once the count is known.
   */
  waitMs(caller: string, count: number): number {
    const { tokens } = this.refilled(caller, this.clock());
    return tokens >= count ? 0 : this.refillMs(tokens, count);
  }

  /** Until a bucket holding `tokens` holds `count`, or is full when `count` is more than it holds. */
  private refillMs(tokens: number, count: number): number {
    return Math.ceil((Math.min(count, this.capacity) - tokens) / this.ratePerMs);
  }

  private refilled(caller: string, now: number): Bucket {
    let bucket = this.buckets.get(caller);
    if (!bucket) {
      if (this.buckets.size >= this.maxCallers) this.forgetIdle(now);
      bucket = { tokens: this.capacity, updatedAtMs: now };
      this.buckets.set(caller, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.updatedAtMs) * this.ratePerMs);
    bucket.updatedAtMs = now;
    return bucket;
  }

  /**
   * Drops callers whose bucket would be full by now: forgetting them changes nothing (a new bucket
   * starts full). Anonymous callers are keyed by address, so the map must not grow without bound.
   */
  private forgetIdle(now: number): void {
    for (const [caller, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAtMs) * this.ratePerMs >= this.capacity) this.buckets.delete(caller);
    }
  }
}
