/** The presence core: account budgets, the request cap, cache, retries, circuit breaker, packing, polling. */
import { fraction, integer, text, type Env } from './env';

export interface PresenceConfig {
  /** Account budgets, calls per rolling second (upstream-api.md: 100 and 500). */
  batchQps: number;
  exactQps: number;
  /** How long a lookup may wait for budget before failing as UPSTREAM_THROTTLED. */
  budgetWaitMs: number;
  /** Distinct Client IDs one GraphQL operation may ask for. */
  maxIdsPerRequest: number;
  /** How long a fetched status is served fresh; 0 disables the cache. */
  cacheTtlMs: number;
  /** How long the last known status may be served, flagged stale, when the upstream fails. */
  staleIfErrorMs: number;
  /** A safety bound on attempts per upstream call, the first included: retryTotalMs is what normally ends retries. */
  retryMaxAttempts: number;
  retryBaseDelayMs: number;
  /** Retries go on, with full-jitter backoff, until this much time has passed since the first attempt. */
  retryTotalMs: number;
  /** After a throttled answer the account's budget is halved, back to whole this long after the last one; 0: off. */
  throttleSlowdownMs: number;
  /** Consecutive failed upstream calls that open this replica's circuit breaker. */
  breakerFailures: number;
  /** How long an open circuit refuses calls before one probe may go. */
  breakerCoolDownMs: number;
  /**
   * Cross-request packing: while a partial call (fewer than 10 IDs) went out this recently, the next
   * one waits for more IDs; 0 sends partial calls at once (packing off). Unset: 1000 / batchQps.
   */
  partialBatchIntervalMs?: number;
}

export interface SubscriptionConfig {
  /** How often the shared poller asks the upstream about the watched devices (PRESENCE_SOURCE=alibaba). */
  pollIntervalMs: number;
  /** The share of UPSTREAM_BATCH_QPS the poller may use, 0 < share ≤ 1; queries keep the rest. */
  budgetShare: number;
}

export function presenceConfig(env: Env): PresenceConfig {
  return {
    batchQps: integer(env, 'UPSTREAM_BATCH_QPS', 100, 1, 100000),
    exactQps: integer(env, 'UPSTREAM_EXACT_QPS', 500, 1, 100000),
    budgetWaitMs: integer(env, 'UPSTREAM_BUDGET_WAIT_MS', 2000, 0, 60000),
    maxIdsPerRequest: integer(env, 'MAX_IDS_PER_REQUEST', 100, 1, 10000),
    cacheTtlMs: integer(env, 'PRESENCE_CACHE_TTL_MS', 1000, 0, 3600000),
    staleIfErrorMs: integer(env, 'PRESENCE_STALE_IF_ERROR_MS', 60000, 0, 86400000),
    retryMaxAttempts: integer(env, 'UPSTREAM_RETRY_MAX_ATTEMPTS', 10, 1, 100),
    retryBaseDelayMs: integer(env, 'UPSTREAM_RETRY_BASE_DELAY_MS', 50, 1, 10000),
    retryTotalMs: integer(env, 'UPSTREAM_RETRY_TOTAL_MS', 3000, 0, 60000),
    throttleSlowdownMs: integer(env, 'UPSTREAM_THROTTLE_SLOWDOWN_MS', 2000, 0, 60000),
    breakerFailures: integer(env, 'UPSTREAM_BREAKER_FAILURES', 5, 1, 1000),
    breakerCoolDownMs: integer(env, 'UPSTREAM_BREAKER_COOLDOWN_MS', 5000, 0, 600000),
    partialBatchIntervalMs:
      text(env, 'UPSTREAM_PARTIAL_BATCH_INTERVAL_MS') === undefined ? undefined : integer(env, 'UPSTREAM_PARTIAL_BATCH_INTERVAL_MS', 0, 0, 10000),
  };
}

export function subscriptionConfig(env: Env): SubscriptionConfig {
  return {
    pollIntervalMs: integer(env, 'SUBSCRIPTION_POLL_INTERVAL_MS', 1000, 100, 3600000),
    budgetShare: fraction(env, 'SUBSCRIPTION_BUDGET_SHARE', 0.2),
  };
}
