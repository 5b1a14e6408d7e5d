import { MemoryBudgetStore, type BudgetDecision, type BudgetStore } from '../presence/budget';
import type { Logger } from '../server/logger';
import { SharedOrLocal } from './shared-or-local';

/**
 * The shared budget, and while Redis is down a per-replica share of it: `limit / replicas` in this
 * replica's memory, so that N replicas cut off from Redis together still stay within the account's
 * limit. A replica that cannot know how many peers it has must be told (UPSTREAM_REPLICAS).
 */
export class FailoverBudgetStore implements BudgetStore {
  private readonly local = new MemoryBudgetStore();
  private readonly failover: SharedOrLocal;

  constructor(
    private readonly shared: BudgetStore,
    private readonly replicas: number,
    logger: Logger,
  ) {
    if (!Number.isInteger(replicas) || replicas < 1) throw new TypeError(`replicas must be a positive whole number; got ${replicas}`);
    this.failover = new SharedOrLocal(logger, `the upstream QPS budget (per-replica share 1/${replicas})`);
  }

  get degraded(): boolean {
    return this.failover.degraded;
  }

  tryAcquire(action: string, limit: number, windowMs: number): Promise<BudgetDecision> {
    return this.failover.run(
      () => this.shared.tryAcquire(action, limit, windowMs),
      () => this.local.tryAcquire(action, Math.max(1, Math.floor(limit / this.replicas)), windowMs),
    );
  }
}
