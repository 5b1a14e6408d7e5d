import { setTimeout as sleep } from 'node:timers/promises';
import type { BudgetStore } from '../../src/presence/budget';

export interface BudgetLoad {
  /** When each granted call "reached the upstream": some time after its grant, before its settle. */
  readonly arrivals: number[];
  /** Stops the callers and resolves once each has settled its last grant. */
  stop(): Promise<void>;
}

/**
 * Saturates a budget from many concurrent callers per store (each store standing for a replica)
 * until stopped. Calls reach the upstream a few milliseconds after their grant, one in ten after up
 * to 150 ms (a cold connection); half the callers wait as told, half retry every millisecond, so
 * both kinds of contention are there. The pauses are the simulated calls' own durations.
 */
export function startBudgetLoad(stores: readonly BudgetStore[], budget: { action: string; limit: number; windowMs: number }): BudgetLoad {
  const arrivals: number[] = [];
  let running = true;
  const caller = async (store: BudgetStore, patient: boolean) => {
    while (running) {
      const decision = await store.tryAcquire(budget.action, budget.limit, budget.windowMs, 5000);
      if (!decision.granted) {
        await sleep(patient ? decision.retryAfterMs : 1);
        continue;
      }
      await sleep(Math.random() < 0.1 ? 60 + Math.random() * 90 : Math.random() * 5);
      arrivals.push(Date.now());
      await sleep(Math.random() * 10);
      await decision.grant.settle();
    }
  };
  const callers = Promise.all(stores.flatMap((store) => Array.from({ length: 20 }, (_, i) => caller(store, i % 2 === 0))));
  return {
    arrivals,
    async stop() {
      running = false;
      await callers;
    },
  };
}
