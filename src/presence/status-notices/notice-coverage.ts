/**
 * Whether some replica of the deployment has been consuming the notices without a break, and since
 * when: the shared part of the table's trust (notice-trust.ts). A replica that starts, or comes back
 * from a gap, while others kept consuming needs no fresh evidence for every device: the table missed
 * nothing. Implemented on Redis (redis/redis-notice-coverage.ts) for replicas sharing a table.
 */
export interface NoticeCoverage {
  /**
   * This replica is consuming: the coverage goes on for another `maxGapMs`. Resolves with when the
   * current unbroken coverage began (now, when it had lapsed: nobody consumed for `maxGapMs`).
   */
  consuming(nowMs: number, maxGapMs: number): Promise<number>;
  /** When the current unbroken coverage began; undefined when it has lapsed. */
  since(): Promise<number | undefined>;
}
