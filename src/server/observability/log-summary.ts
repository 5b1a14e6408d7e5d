/** Numbers added up per key between two lines. */
export type Counts = Record<string, number>;

export interface LogSummaryOptions {
  /** At most one line per key per interval after the first. @default 10 s */
  intervalMs?: number;
  /** Keys counted at once; past it, everything counted is written out and forgotten. @default 10,000 */
  maxKeys?: number;
  now?: () => number;
}

/**
 * How a summary line is written. `immediate`: the key's first event (or its first after a quiet
 * interval), written as it happens; otherwise the counts of an interval, written by the timer or at
 * close. `detail` is the event's own (immediate) or the last one counted.
 */
export type WriteSummary<C extends Counts, D> = (key: string, counts: C, requests: number, detail: D, immediate: boolean) => void;

interface Held<C, D> {
  /** Added up since the last line; undefined while nothing is. */
  counts: C | undefined;
  requests: number;
  detail: D;
  loggedAtMs: number;
}

/**
 * For a log that must not write a line per request: events are counted per key (a caller, a kind of
 * upstream failure); a key's first event is written at once, later ones are added up and written as
 * one line per key per interval. So a new condition shows at once, and one that persists, whatever
 * the request rate, costs a line per interval. Per process.
 */
export class LogSummary<C extends Counts, D> {
  private readonly held = new Map<string, Held<C, D>>();
  private readonly intervalMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly write: WriteSummary<C, D>,
    options: LogSummaryOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
    // Writes the counts of keys that went quiet; never keeps the process alive.
    this.timer = setInterval(() => this.flush(false), this.intervalMs);
    this.timer.unref();
  }

  record(key: string, counts: C, detail: D): void {
    const now = this.now();
    const held = this.held.get(key);
    if (held && now - held.loggedAtMs < this.intervalMs) {
      held.counts = added(held.counts, counts);
      held.requests++;
      held.detail = detail;
      return;
    }
    if (!held && this.held.size >= this.maxKeys) this.flush(true);
    // Back after its interval, before the timer got to it: what was held goes out with this event.
    this.write(key, added(held?.counts, counts), 1 + (held?.requests ?? 0), detail, true);
    this.held.set(key, { counts: undefined, requests: 0, detail, loggedAtMs: now });
  }

  /** Writes what is counted and not yet written, and stops the timer (at shutdown). */
  close(): void {
    clearInterval(this.timer);
    this.flush(true);
  }

  /** Writes the counts of keys whose interval has passed (all of them when `all`); forgets idle keys. */
  private flush(all: boolean): void {
    const now = this.now();
    for (const [key, held] of this.held) {
      if (!all && now - held.loggedAtMs < this.intervalMs) continue;
      if (held.counts !== undefined) this.write(key, held.counts, held.requests, held.detail, false);
      this.held.delete(key);
    }
  }
}

/** `into` plus `more`, in a new object the first time (the caller's counts are never changed). */
function added<C extends Counts>(into: C | undefined, more: C): C {
  if (into === undefined) return { ...more };
  for (const name of Object.keys(more) as Array<keyof C>) (into[name] as number) += more[name];
  return into;
}
