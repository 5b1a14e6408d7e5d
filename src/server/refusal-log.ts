import type { Logger } from './logger';

/** Lookups one request had refused for its caller: outside its scope, or over its fair share. */
export interface Refused {
  forbidden: number;
  rateLimited: number;
}

interface CallerRefusals extends Refused {
  /** When the last line about this caller was written. */
  loggedAtMs: number;
  /** Requests counted since that line. */
  requests: number;
}

export interface RefusalLogOptions {
  /** At most one line per caller per interval after the first. @default 10 s */
  intervalMs?: number;
  /** Callers counted at once; past it, everything counted is written out and forgotten. @default 10,000 */
  maxCallers?: number;
  now?: () => number;
}

/**
 * The operator's view of refused lookups, summarised per caller: a caller's first refusal is written
 * at once (who, how many, which operation), later ones are counted and written as one line per caller
 * per interval. So a greedy or misconfigured client is spotted within seconds, and one flooding the
 * service costs a line every 10 s instead of a line per request. Per process; names callers, never
 * Client IDs.
 */
export class RefusalLog {
  private readonly callers = new Map<string, CallerRefusals>();
  private readonly intervalMs: number;
  private readonly maxCallers: number;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly logger: Logger,
    options: RefusalLogOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.maxCallers = options.maxCallers ?? 10_000;
    this.now = options.now ?? Date.now;
    // Writes the counts of callers that went quiet; never keeps the process alive.
    this.timer = setInterval(() => this.flush(false), this.intervalMs);
    this.timer.unref();
  }

  record(caller: string, refused: Refused, operationName: string | null | undefined): void {
    const now = this.now();
    const counted = this.callers.get(caller);
    if (counted && now - counted.loggedAtMs < this.intervalMs) {
      counted.forbidden += refused.forbidden;
      counted.rateLimited += refused.rateLimited;
      counted.requests++;
      return;
    }
    if (!counted && this.callers.size >= this.maxCallers) this.flush(true);
    const line = { forbidden: refused.forbidden + (counted?.forbidden ?? 0), rateLimited: refused.rateLimited + (counted?.rateLimited ?? 0) };
    this.write(caller, line, 1 + (counted?.requests ?? 0), operationName ?? undefined);
    this.callers.set(caller, { forbidden: 0, rateLimited: 0, requests: 0, loggedAtMs: now });
  }

  /** Writes what is counted and not yet written, and stops the timer (at shutdown). */
  close(): void {
    clearInterval(this.timer);
    this.flush(true);
  }

  /** Writes the counts of callers whose interval has passed (all of them when `all`); forgets idle callers. */
  private flush(all: boolean): void {
    const now = this.now();
    for (const [caller, counted] of this.callers) {
      if (!all && now - counted.loggedAtMs < this.intervalMs) continue;
      if (counted.requests > 0) this.write(caller, counted, counted.requests, undefined);
      this.callers.delete(caller);
    }
  }

  private write(caller: string, refused: Refused, requests: number, operationName: string | undefined): void {
    this.logger.info({ caller, forbidden: refused.forbidden, rateLimited: refused.rateLimited, requests, operationName }, 'lookups refused for the caller');
  }
}
