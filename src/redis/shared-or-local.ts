import { systemClock, type Clock } from '../presence/clock';
import type { Logger } from '../common/logger';
import { redisFailureReason } from './redis-failure';

/**
 * Whether this replica can reach the stores it shares with the others through Redis, and the
 * transitions between the two, each logged loudly once: an operator must know when the budget and
 * the cache are no longer shared, and when they are again. `run` is the plain policy (the cache):
 * the shared store, and while it fails this replica's own. The budget needs more care around the
 * transitions and drives `lost` / `reached` itself (failover-budget-store.ts).
 */
export class SharedOrLocal {
  private lostAtMs: number | undefined;
  private reachedAgainAtMs: number | undefined;
  private readonly now: Clock;

  constructor(
    private readonly logger: Logger,
    /** What falls back, for the log: e.g. "the upstream QPS budget (per-replica share 1/2)". */
    private readonly what: string,
    now: Clock = systemClock,
  ) {
    this.now = now;
  }

  get degraded(): boolean {
    return this.lostAtMs !== undefined;
  }

  /** When the current outage was noticed; `undefined` while Redis answers. */
  get degradedSinceMs(): number | undefined {
    return this.lostAtMs;
  }

  /** When Redis last answered again after an outage; `undefined` if it never failed. */
  get rejoinedAtMs(): number | undefined {
    return this.reachedAgainAtMs;
  }

  /** A shared operation failed: from now on the replica is degraded (logged once per outage). */
  lost(error: unknown): void {
    if (this.lostAtMs !== undefined) return;
    this.lostAtMs = this.now();
    const reason = redisFailureReason(error);
    this.logger.error({ reason }, `Redis unreachable: ${this.what} falls back to this replica's memory (${reason})`);
  }

  /** A shared operation succeeded: an outage, if any, is over (logged once). */
  reached(details: Record<string, unknown> = {}): void {
    if (this.lostAtMs === undefined) return;
    const now = this.now();
    this.logger.warn({ degradedForMs: now - this.lostAtMs, ...details }, `Redis reachable again: ${this.what} is shared again`);
    this.lostAtMs = undefined;
    this.reachedAgainAtMs = now;
  }

  async run<T>(shared: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await shared();
    } catch (error) {
      this.lost(error);
      return local();
    }
    this.reached();
    return result;
  }
}
