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
  circuitBreaker?: CircuitBreakerOptions;
}

/**
 * Builds the process-wide presence core from the validated configuration: the one place where
 * `PresenceConfig` meets the dispatcher's options. Call it once per process.
 */
export function createPresenceDispatcher(config: PresenceConfig, dependencies: PresenceCoreDependencies): PresenceDispatcher {
  const budgetStore = dependencies.budgetStore ?? new MemoryBudgetStore();
  return new PresenceDispatcher({
    api: dependencies.api,
    batchBudget: new CallBudget({ store: budgetStore, action: SessionAction.Batch, limitPerSecond: config.batchQps }),
    exactBudget: new CallBudget({ store: budgetStore, action: SessionAction.Exact, limitPerSecond: config.exactQps }),
    cache: dependencies.cache ?? new MemoryPresenceCache(),
    cacheTtlMs: config.cacheTtlMs,
    staleIfErrorMs: config.staleIfErrorMs,
    budgetWaitMs: config.budgetWaitMs,
    retry: { maxAttempts: config.retryMaxAttempts, baseDelayMs: config.retryBaseDelayMs, totalMs: config.retryTotalMs },
    circuitBreaker: dependencies.circuitBreaker,
    observer: dependencies.observer,
  });
}
