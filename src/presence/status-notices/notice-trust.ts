import { systemClock, type Clock } from '../clock';
import { assertNumberOption } from '../options';

/**
 * Since when this replica may answer from the presence table. AMQP has no offset to catch up to: a
 * notice sent while nobody consumed may be gone for good (status-notices.md, UNCONFIRMED how long the
 * cloud keeps them). So after start, and after the consumer has been away longer than `maxGapMs`, an
 * entry is trusted only with evidence (a notice applied, or an agreeing batch answer) from after the
 * consumer came back; until then the dispatcher answers for it, and its answer is that evidence.
 *
 * One per process. With several replicas each keeps its own: a replica that was away distrusts entries
 * even if another one was consuming meanwhile, which errs on the side of asking.
 */
export class NoticeTrust {
  private readonly maxGapMs: number;
  private readonly now: Clock;
  /** When the current stretch of trust began; undefined before the first connection. */
  private sinceMs: number | undefined;
  /** When the consumer was lost; undefined while it is consuming. */
  private lostAtMs: number | undefined;
  private connectedNow = false;

  constructor(options: { maxGapMs: number; now?: Clock }) {
    assertNumberOption('NoticeTrust', 'maxGapMs', options.maxGapMs, { min: 0 });
    this.maxGapMs = options.maxGapMs;
    this.now = options.now ?? systemClock;
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
    if (this.sinceMs === undefined) return undefined;
    if (this.lostAtMs !== undefined && this.now() - this.lostAtMs > this.maxGapMs) return undefined;
    return this.sinceMs;
  }

  trusts(evidenceAtMs: number): boolean {
    const since = this.trustedSinceMs();
    return since !== undefined && evidenceAtMs >= since;
  }

  /** Whether the consumer is consuming right now. */
  get consuming(): boolean {
    return this.connectedNow;
  }
}
