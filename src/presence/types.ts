import type { LookupAllowance } from './fair-share';
import type { SessionAction } from './session-api';

/** One device, as the upstream knows it: Client IDs are unique per instance only. */
export interface PresenceKey {
  readonly instanceId: string;
  readonly clientId: string;
}

/** Where an answer came from; also the `result` label of `presence_lookups_total`. */
export type PresenceOrigin = 'upstream' | 'cache' | 'stale' | 'events';

export interface PresenceStatus {
  online: boolean;
  /**
   * When the upstream was asked (the call sent; for a cached answer, the call that fetched it), in ms
   * since the epoch: the status is no older than that. A
   * number, not a Date: a cached answer is made for every device of every request, and only a
   * `presence { checkedAt }` selection needs the Date.
   */
  checkedAtMs: number;
  /** True when served from the last known status because the upstream failed. */
  stale: boolean;
  origin: PresenceOrigin;
}

/** A status, or the error for that key alone: a failure is data, never a rejected batch. */
export type PresenceResult = PresenceStatus | Error;

/**
 * The process-wide presence core as the per-request loaders see it. Keys arrive already validated
 * and de-duplicated by the loader; the answer array is parallel to `keys`.
 */
export interface PresenceLookup {
  /**
   * Through BatchQuerySessionByClientIds (cache allowed). `allowance`, the caller's fair share, pays
   * for the keys that need a call of their own (not answered by the cache, not already being looked
   * up for another request); those over it fail with RATE_LIMITED and are never sent.
   */
  lookup(keys: readonly PresenceKey[], allowance?: LookupAllowance): Promise<PresenceResult[]>;
  /** Through QuerySessionByClientId: exact, one call per key, never from the cache, each key paid from `allowance`. */
  lookupExact(keys: readonly PresenceKey[], allowance?: LookupAllowance): Promise<PresenceResult[]>;
  /**
   * The status the cache holds fresh for a key, at once, when the cache lives in this process;
   * undefined when it holds none or cannot tell without waiting (then `lookup` answers). A cached
   * answer spends no allowance, so none is needed.
   */
  cachedNow?(key: PresenceKey): PresenceStatus | undefined;
}

/** Hooks for metrics; `server/observability/metrics.ts` implements them with prom-client, tests may record them. */
export interface PresenceObserver {
  /** One upstream HTTP call ended: `outcome` is `ok`, the upstream error code, or `network`. */
  upstreamCall(action: SessionAction, outcome: string): void;
  /** Client IDs sent in one BatchQuerySessionByClientIds call. */
  batchSize(clientIds: number): void;
  /** Client ID lookups answered, by how. */
  lookupsAnswered(result: PresenceOrigin | 'error', count: number): void;
  /** One call of the subscriptions' poller ended: `ok`, the upstream error code, or `network`. */
  pollerCall(outcome: string): void;
}

export const NO_OBSERVER: PresenceObserver = Object.freeze({
  upstreamCall() {},
  batchSize() {},
  lookupsAnswered() {},
  pollerCall() {},
});

export function presenceKeyId(key: PresenceKey): string {
  // A newline can be in neither an instance ID nor a Client ID, so this is unambiguous.
  return `${key.instanceId}\n${key.clientId}`;
}
