import type { Caller } from '../../common/caller';
import { PresenceErrorCode, RateLimitedError } from '../../presence/errors';
import { FairShare } from '../../presence/fair-share';
import { refusal, type HttpRefusal } from '../http/http-refusal';

/**
 * CALLER_OPERATIONS_PER_SECOND: each caller's share of GraphQL operations, next to its share of
 * lookups (CALLER_LOOKUPS_PER_SECOND). Lookups bound what a caller costs upstream; this bounds what
 * it costs here: parsing, validating and running an operation is CPU on the one event loop every
 * caller shares, even when it asks for no device at all. Taken before anything is parsed, so a
 * refused operation costs a map lookup and no upstream call. Each operation of a batch counts, as
 * does each WebSocket subscribe; a batch is admitted whole or not at all.
 *
 * A token bucket per caller (FairShare), in memory per replica like the lookup share: one second's
 * worth may come at once. One per process, shared by every request and socket.
 */
export class OperationShare {
  private readonly buckets: FairShare;

  constructor(private readonly operationsPerSecond: number) {
    this.buckets = new FairShare({ lookupsPerSecond: operationsPerSecond });
  }

  /** Undefined when `count` operations may start now; otherwise the refusal, with when to retry. */
  take(caller: string, count: number): RateLimitedError | undefined {
    const retryAfterMs = this.takeAll(caller, count);
    return retryAfterMs === 0 ? undefined : new RateLimitedError(this.overShareMessage(retryAfterMs), retryAfterMs);
  }

  /** 0 when `count` operations may start now (and are spent); otherwise when to retry, spending nothing. */
  takeAll(caller: string, count: number): number {
    const { granted, retryAfterMs } = this.buckets.takeAll(caller, count);
    return granted === count ? 0 : retryAfterMs;
  }

  /** 0 when at least one operation could start now; otherwise when one could. Spends nothing. */
  waitForOne(caller: string): number {
    return this.buckets.waitMs(caller, 1);
  }

  overShareMessage(retryAfterMs: number): string {
    return `This caller has used its share of operations per second (${this.operationsPerSecond}, CALLER_OPERATIONS_PER_SECOND); retry after ${retryAfterMs} ms`;
  }
}

/**
 * The HTTP check, once the body is read: one request's operations (one, or each of a batch) against
 * its caller's share.
 */
export function operationShareCheck(share: OperationShare): (body: unknown, search: string, caller: Caller) => HttpRefusal | undefined {
  return (body, _search, caller) => {
    const retryAfterMs = share.takeAll(caller.name, Array.isArray(body) ? Math.max(1, body.length) : 1);
    return retryAfterMs === 0 ? undefined : overShare(share, retryAfterMs);
  };
}

/**
 * The same share checked before the body is read: a caller that could not start even one operation
 * now is refused with its body unread and unparsed, the cheapest refusal there is (a flood of them
 * costs a header parse, a hash and this lookup each). Spends nothing: operationShareCheck charges
 * the request in full once its body says how many operations it holds.
 */
export function operationShareAdmission(share: OperationShare): (caller: Caller) => HttpRefusal | undefined {
  return (caller) => {
    const retryAfterMs = share.waitForOne(caller.name);
    return retryAfterMs === 0 ? undefined : overShare(share, retryAfterMs);
  };
}

/**
 * HTTP 429 with RATE_LIMITED, `retryAfterMs` and a Retry-After header (whole seconds), answered once
 * the retry time has passed (`delayMs`, http/held-refusals.ts): a client that sends the next request
 * as soon as the last is answered then waits as a polite one would, instead of costing a refusal
 * per round trip. No error object (and its stack) is made for it.
 */
function overShare(share: OperationShare, retryAfterMs: number): HttpRefusal {
  return {
    ...refusal(429, share.overShareMessage(retryAfterMs), PresenceErrorCode.RateLimited, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) }),
    extensions: { retryAfterMs },
    delayMs: retryAfterMs,
  };
}
