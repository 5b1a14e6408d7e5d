import { CallBudget, type BudgetGrant, type BudgetStore } from './budget';
import { systemClock, type Clock } from './clock';
import { UpstreamThrottledError, asPresenceError, type PresenceError } from './errors';
import { MAX_CLIENT_IDS_PER_BATCH_CALL, SessionAction } from './session-api';
import type { PresenceKey } from './types';

/**
 * A background user of the account's BatchQuerySessionByClientIds budget (the subscription poller,
 * the presence table's verifier): it may spend only its share, and only what the account has left
 * right now. Each call takes a grant from the share, then from the account budget, without waiting
 * for either, so queries, which do wait for budget, are never starved by background calls.
 */
export class BudgetShare {
  private readonly now: Clock;

  constructor(
    private readonly accountBudget: CallBudget,
    private readonly shareBudget: CallBudget,
    options: { now?: Clock; onError?: (error: PresenceError) => void } = {},
  ) {
    this.now = options.now ?? systemClock;
    this.onError = options.onError ?? (() => undefined);
  }

  private readonly onError: (error: PresenceError) => void;

  /**
   * The grants for one call now, or undefined when the share or the account has no room (nothing
   * is held then). Settle every grant once the call has ended (budget.ts).
   */
  /** A background call was throttled: the whole account slows down, as after a query's (budget.ts). */
  throttled(): void {
    void this.accountBudget.throttled();
  }

  async tryAdmit(): Promise<BudgetGrant[] | undefined> {
    let share: BudgetGrant | undefined;
    try {
      share = await this.shareBudget.acquire(this.now());
      return [share, await this.accountBudget.acquire(this.now())];
    } catch (error) {
      void share?.settle(); // no call went
      if (!(error instanceof UpstreamThrottledError)) this.onError(asPresenceError(error));
      return undefined;
    }
  }
}

/**
 * A share of the account's batch budget on `store` (the dispatcher's, so background calls and
 * queries count together): `share` of `batchQps`, at least one call per second, or a small account
 * with a small share could never make one. `name` keeps each share's count apart.
 */
export function batchShareBudgets(
  store: BudgetStore,
  options: { name: string; batchQps: number; share: number; maxCallMs: number; slowdownMs?: number },
): { accountBudget: CallBudget; shareBudget: CallBudget } {
  const { batchQps, maxCallMs, slowdownMs } = options;
  return {
    // The account's budget as the dispatcher's is made (dispatcher-from-config.ts): one count, one slowdown.
    accountBudget: new CallBudget({ store, action: SessionAction.Batch, limitPerSecond: batchQps, maxCallMs, slowdownMs }),
    shareBudget: new CallBudget({ store, action: `${SessionAction.Batch}:${options.name}`, limitPerSecond: Math.max(1, Math.floor(batchQps * options.share)), maxCallMs }),
  };
}

/** Up to 10 keys of one instance: one BatchQuerySessionByClientIds call. */
export interface BatchChunk {
  instanceId: string;
  keys: PresenceKey[];
}

/** Keys grouped by instance (one call names one InstanceId), then cut into 10-ID calls. */
export function chunkedByInstance(keys: readonly PresenceKey[]): BatchChunk[] {
  const byInstance = new Map<string, PresenceKey[]>();
  for (const key of keys) {
    const list = byInstance.get(key.instanceId) ?? [];
    list.push(key);
    byInstance.set(key.instanceId, list);
  }
  const chunks: BatchChunk[] = [];
  for (const [instanceId, list] of byInstance) {
    // BatchQuerySessionByClientIds: at most 10 Client IDs per call.
    for (let i = 0; i < list.length; i += MAX_CLIENT_IDS_PER_BATCH_CALL) {
      chunks.push({ instanceId, keys: list.slice(i, i + MAX_CLIENT_IDS_PER_BATCH_CALL) });
    }
  }
  return chunks;
}
