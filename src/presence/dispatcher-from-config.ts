import type { PresenceConfig } from '../config';
import { CallBudget, MemoryBudgetStore, type BudgetStore } from './budget';
import type { CircuitBreakerOptions } from './circuit-breaker';
import { MemoryPresenceCache, type PresenceCacheStore } from './presence-cache';
import { PresenceDispatcher } from './presence-dispatcher';
import { SessionAction, type SessionApi } from './session-api';
import type { PresenceObserver } from './types';

export interface PresenceCoreDependencies {
  api: SessionApi;
  /** Shared by replicas when set (a Redis store); @default a MemoryBudgetStore for this process. */
  budgetStore?: BudgetStore;
  /** Shared by replicas when set (a Redis store); @default a MemoryPresenceCache for this process. */
  cache?: PresenceCacheStore;
  observer?: PresenceObserver;
  /** Overrides the breaker settings of `config` (e.g. a test clock). */
  circuitBreaker?: CircuitBreakerOptions;
  /**
   * The longest one upstream call may last (the client's connect plus read timeouts): until its call
   * has ended, a grant counts as if the call could still reach the upstream that late (budget.ts).
   */
  maxCallMs: number;
}

/**
 * Builds the process-wide presence core from the validated configuration: the one place where
 * `PresenceConfig` meets the dispatcher's options. Call it once per process.
 */
export function createPresenceDispatcher(config: PresenceConfig, dependencies: PresenceCoreDependencies): PresenceDispatcher {
  const budgetStore = dependencies.budgetStore ?? new MemoryBudgetStore();
  const { maxCallMs } = dependencies;
  const slowdownMs = config.throttleSlowdownMs;
  return new PresenceDispatcher({
    api: dependencies.api,
    batchBudget: new CallBudget({ store: budgetStore, action: SessionAction.Batch, limitPerSecond: config.batchQps, maxCallMs, slowdownMs }),
    exactBudget: new CallBudget({ store: budgetStore, action: SessionAction.Exact, limitPerSecond: config.exactQps, maxCallMs, slowdownMs }),
    cache: dependencies.cache ?? new MemoryPresenceCache(),
    cacheTtlMs: config.cacheTtlMs,
    staleIfErrorMs: config.staleIfErrorMs,
    budgetWaitMs: config.budgetWaitMs,
    retry: { maxAttempts: config.retryMaxAttempts, baseDelayMs: config.retryBaseDelayMs, totalMs: config.retryTotalMs },
    circuitBreaker: { failureThreshold: config.breakerFailures, coolDownMs: config.breakerCoolDownMs, ...dependencies.circuitBreaker },
    partialBatchIntervalMs: config.partialBatchIntervalMs,
    observer: dependencies.observer,
  });
}
