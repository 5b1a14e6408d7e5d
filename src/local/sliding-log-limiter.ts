/**
 * A per-second call limit kept as a sliding log: a call is admitted when fewer than `limit` calls were
 * admitted in the `windowMs` before it. Unlike a fixed window, no burst of twice the limit can straddle
 * a window edge, which is how the cloud's "100 per second" (BatchQuerySessionByClientIds) and
 * "500 per second" (QuerySessionByClientId) are safest read (upstream-api.md, QPS limit).
 */
export class SlidingLogLimiter {
  /** Admission times, oldest first. */
  private readonly admitted: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs = 1000,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a whole number of at least 1; got ${limit}`);
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive; got ${windowMs}`);
  }

  /** Admits (and logs) a call at `nowMs`, or refuses it; refused calls are not logged. */
  tryAdmit(nowMs: number): boolean {
    while (this.admitted.length > 0 && this.admitted[0] <= nowMs - this.windowMs) this.admitted.shift();
    if (this.admitted.length >= this.limit) return false;
    this.admitted.push(nowMs);
    return true;
  }
}
