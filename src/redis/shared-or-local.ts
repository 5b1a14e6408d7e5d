import type { Logger } from '../server/logger';

/**
 * Runs an operation on the store shared through Redis and, while Redis fails, on this replica's own
 * store instead, so a Redis outage degrades the service rather than stopping it. Both transitions
 * are logged loudly, once each: an operator must know the budget is no longer shared.
 */
export class SharedOrLocal {
  private degradedSince: number | undefined;

  constructor(
    private readonly logger: Logger,
    /** What falls back, for the log: e.g. "QPS budget (per-replica share 1/2)". */
    private readonly what: string,
  ) {}

  get degraded(): boolean {
    return this.degradedSince !== undefined;
  }

  async run<T>(shared: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await shared();
    } catch (error) {
      if (this.degradedSince === undefined) {
        this.degradedSince = Date.now();
        this.logger.error({ err: { message: (error as Error).message } }, `Redis unreachable: ${this.what} falls back to this replica's memory`);
      }
      return local();
    }
    if (this.degradedSince !== undefined) {
      this.logger.warn({ degradedForMs: Date.now() - this.degradedSince }, `Redis reachable again: ${this.what} is shared again`);
      this.degradedSince = undefined;
    }
    return result;
  }
}
