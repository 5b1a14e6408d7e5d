/**
 * How a throttled answer slows an action's grants. Right after it the limit is `share` of itself,
 * rising linearly back to whole over `durationMs`; 0 ms: no slowdown.
 */
export interface BudgetSlowdown {
  share: number;
  durationMs: number;
}

/**
 * The limit `sinceThrottledMs` after the last throttled answer: `slowdown.share` of `limit` at once,
 * whole again after `slowdown.durationMs`, never below one call. Not lowered further by each throttled
 * answer (no compounding): the upstream's faults may be random rather than a sign of our rate (20 %
 * SystemOverFlow at any rate), and a decrease per answer would then starve the account; a
 * throttled answer during the slowdown restarts it. redis-budget-store.ts computes the same in Lua.
 */
export function slowedLimit(limit: number, sinceThrottledMs: number, slowdown: BudgetSlowdown | undefined): number {
  if (!slowdown || slowdown.durationMs <= 0 || !(sinceThrottledMs < slowdown.durationMs)) return limit;
  const recovered = Math.max(0, sinceThrottledMs) / slowdown.durationMs;
  return Math.max(1, Math.floor(limit * (slowdown.share + (1 - slowdown.share) * recovered)));
}
