import { systemClock, type Clock } from '../clock';
import { assertNumberOption } from '../options';
import type { NoticeCoverage } from './notice-coverage';

/**
 * Since when this replica may answer from the presence table. AMQP has no offset to catch up to: a
 * notice sent while nobody consumed may be gone for good (status-notices.md, UNCONFIRMED how long the
 * cloud keeps them). So after start, and after the consumer has been away longer than `maxGapMs`, an
 * entry is trusted only with evidence (a notice applied, or an agreeing batch answer) from after the
 * consumer came back; until then the dispatcher answers for it, and its answer is that evidence.
 *
 * One per process. With several replicas sharing a table, their consumers' coverage is shared too
 * (notice-coverage.ts): a replica that starts, or was away, while another kept consuming trusts the
 * table from when that unbroken coverage began. `refreshCoverage` keeps this replica's view of it (and,
 * while it consumes, the coverage itself) current; it runs every third of `maxGapMs`, so a coverage
 * that lapses is seen at most `maxGapMs / 3` late.
 */
export class NoticeTrust {
  private readonly maxGapMs: number;
  private readonly now: Clock;
  /** When the current stretch of trust began; undefined before the first connection. */
  private sinceMs: number | undefined;
  /** When the consumer was lost; undefined while it is consuming. */
  private lostAtMs: number | undefined;
  private connectedNow = false;
  private readonly coverage: NoticeCoverage | undefined;
  /** When the deployment's unbroken coverage began, as last read; undefined when lapsed or unknown. */
  private sharedSinceMs: number | undefined;

  constructor(options: { maxGapMs: number; now?: Clock; coverage?: NoticeCoverage }) {
    assertNumberOption('NoticeTrust', 'maxGapMs', options.maxGapMs, { min: 0 });
    this.maxGapMs = options.maxGapMs;
    this.now = options.now ?? systemClock;
    this.coverage = options.coverage;
  }

  /**
   * Tells the shared coverage this replica consumes (while it does) and reads when the coverage began.
   * Never rejects: a store that cannot be reached leaves only this replica's own trust.
   */
  async refreshCoverage(): Promise<void> {
    if (!this.coverage) return;
    try {
      this.sharedSinceMs = this.connectedNow ? await this.coverage.consuming(this.now(), this.maxGapMs) : await this.coverage.since();
    } catch {
      this.sharedSinceMs = undefined;
    }
  }

  /** The consumer is consuming every group (again). A gap longer than `maxGapMs` starts trust anew. */
  connected(atMs: number = this.now()): void {
    if (this.sinceMs === undefined || (this.lostAtMs !== undefined && atMs - this.lostAtMs > this.maxGapMs)) this.sinceMs = atMs;
    this.lostAtMs = undefined;
    this.connectedNow = true;
  }

  /** The consumer lost its connection: notices sent from now on may never reach this replica. */
  disconnected(atMs: number = this.now()): void {
    if (this.connectedNow) this.lostAtMs = atMs;
    this.connectedNow = false;
  }

  /**
   * Evidence must be at least this recent to be trusted; undefined while nothing is (before the first
   * connection, or while the consumer has been away longer than `maxGapMs`).
   */
  trustedSinceMs(): number | undefined {
    const own = this.ownSinceMs();
    if (own === undefined) return this.sharedSinceMs;
    return this.sharedSinceMs === undefined ? own : Math.min(own, this.sharedSinceMs);
  }

  private ownSinceMs(): number | undefined {
    if (this.sinceMs === undefined) return undefined;
    if (this.lostAtMs !== undefined && this.now() - this.lostAtMs > this.maxGapMs) return undefined;
    return this.sinceMs;
  }

  trusts(evidenceAtMs: number): boolean {
    const since = this.trustedSinceMs();
    return since !== undefined && evidenceAtMs >= since;
  }

  /** Whether the notices are being consumed right now: by this replica, or (shared coverage) another. */
  get consuming(): boolean {
    return this.connectedNow || this.sharedSinceMs !== undefined;
  }
}
