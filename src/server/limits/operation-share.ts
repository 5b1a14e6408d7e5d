import type { Caller } from '../../common/caller';
import { RateLimitedError } from '../../presence/errors';
import { FairShare } from '../../presence/fair-share';
import { presenceExtensions } from '../../graphql/errors';
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
    const { granted, retryAfterMs } = this.buckets.takeAll(caller, count);
    if (granted === count) return undefined;
    return new RateLimitedError(
      `This caller has used its share of operations per second (${this.operationsPerSecond}, CALLER_OPERATIONS_PER_SECOND); retry after ${retryAfterMs} ms`,
      retryAfterMs,
    );
  }
}

/**
 * The HTTP check: one request's operations (one, or each of a batch) against its caller's share;
 * a refusal is HTTP 429 with RATE_LIMITED, `retryAfterMs` and a Retry-After header (whole seconds).
 */
export function operationShareCheck(share: OperationShare): (body: unknown, search: string, caller: Caller) => HttpRefusal | undefined {
  return (body, _search, caller) => {
    const refused = share.take(caller.name, Array.isArray(body) ? Math.max(1, body.length) : 1);
    if (!refused) return undefined;
    const { code, ...extensions } = presenceExtensions(refused);
    return {
      ...refusal(429, refused.message, String(code), { 'retry-after': String(Math.max(1, Math.ceil(refused.retryAfterMs / 1000))) }),
      extensions,
    };
  };
}
