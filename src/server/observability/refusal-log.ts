import type { Logger } from '../../common/logger';
import { LogSummary } from './log-summary';

/** Lookups one request had refused for its caller: outside its scope, or over its fair share. */
export interface Refused {
  forbidden: number;
  rateLimited: number;
}

export interface RefusalLogOptions {
  /** At most one line per caller per interval after the first. @default 10 s */
  intervalMs?: number;
  /** Callers counted at once; past it, everything counted is written out and forgotten. @default 10,000 */
  maxCallers?: number;
  now?: () => number;
}

/**
 * The operator's view of refused lookups, summarised per caller (LogSummary): a caller's first
 * refusal is written at once (who, how many, which operation), later ones as one line per caller per
 * interval with the counts. So a greedy or misconfigured client is spotted within seconds, and one
 * flooding the service costs a line every 10 s instead of a line per request. Names callers, never
 * Client IDs.
 */
export class RefusalLog {
  private readonly summary: LogSummary<{ forbidden: number; rateLimited: number }, string | undefined>;

  constructor(logger: Logger, options: RefusalLogOptions = {}) {
    this.summary = new LogSummary(
      (caller, refused, requests, operationName, immediate) =>
        logger.info(
          { caller, forbidden: refused.forbidden, rateLimited: refused.rateLimited, requests, operationName: immediate ? operationName : undefined },
          'lookups refused for the caller',
        ),
      { intervalMs: options.intervalMs, maxKeys: options.maxCallers, now: options.now },
    );
  }

  record(caller: string, refused: Refused, operationName: string | null | undefined): void {
    this.summary.record(caller, { forbidden: refused.forbidden, rateLimited: refused.rateLimited }, operationName ?? undefined);
  }

  /** Writes what is counted and not yet written, and stops the timer (at shutdown). */
  close(): void {
    this.summary.close();
  }
}
