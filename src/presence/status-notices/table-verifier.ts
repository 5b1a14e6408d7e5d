import type { BatchChunk, BudgetShare } from '../budget-share';
import { systemClock, type Clock } from '../clock';
import { asPresenceError, UpstreamThrottledError, type PresenceError } from '../errors';
import { assertNumberOption } from '../options';
import { MAX_CLIENT_IDS_PER_BATCH_CALL, SessionAction, type SessionApi } from '../session-api';
import { NO_OBSERVER, type PresenceKey, type PresenceObserver } from '../types';
import { NO_NOTICE_OBSERVER, type NoticeObserver } from './notice-observer';
import type { PresenceChangeFeed } from './presence-change-feed';
import type { PresenceTableStore } from './presence-table';

export interface TableVerifierOptions {
  api: SessionApi;
  table: PresenceTableStore;
  feed: PresenceChangeFeed;
  /** Its share of UPSTREAM_BATCH_QPS (STATUS_NOTICES_VERIFY_SHARE), taken only when the account has room. */
  share: BudgetShare;
  /** Calls one round may make at most: the share's calls per second, so a round fits its second. */
  callsPerRound: number;
  /** How often a round starts. @default 1000 */
  intervalMs?: number;
  /** STATUS_NOTICES_BATCH_LAG_MS: a device with a notice this recent is left alone (the batch cache lags it). */
  batchLagMs: number;
  /** STATUS_NOTICES_VERIFY_MIN_AGE_MS: nor is one checked or noticed this recently. */
  minAgeMs: number;
  /**
   * How often the table is asked for the devices most in need of a check (a walk over the whole table
   * on Redis): in between, rounds work through the list it gave. @default 10_000
   */
  refillIntervalMs?: number;
  observer?: PresenceObserver;
  noticeObserver?: NoticeObserver;
  onError?: (error: PresenceError) => void;
  now?: Clock;
}

/**
 * Re-checks the presence table with BatchQuerySessionByClientIds, least recently verified devices
 * first, inside its share of the account's budget: notices can be lost (a consumer gap the cloud did
 * not keep them through, a device online before the first start), and this is how the table finds out
 * and repairs itself. A disagreement is counted only when the table's status is older than the batch
 * cache's lag (a younger one is the batch answer lagging, and the table keeps it). ONE per process;
 * with several replicas each verifies within its own share (the shares count in the shared budget).
 */
export class TableVerifier {
  private readonly intervalMs: number;
  private readonly observer: PresenceObserver;
  private readonly noticeObserver: NoticeObserver;
  private readonly onError: (error: PresenceError) => void;
  private readonly now: Clock;
  private readonly refillIntervalMs: number;
  /** Devices to check, most in need first; refilled from the table at most every refillIntervalMs. */
  private queue: PresenceKey[] = [];
  private nextRefillAtMs = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: TableVerifierOptions) {
    assertNumberOption('TableVerifier', 'callsPerRound', options.callsPerRound, { min: 1, integer: true });
    this.intervalMs = options.intervalMs ?? 1000;
    this.refillIntervalMs = options.refillIntervalMs ?? 10_000;
    assertNumberOption('TableVerifier', 'refillIntervalMs', this.refillIntervalMs, { min: 0 });
    assertNumberOption('TableVerifier', 'intervalMs', this.intervalMs, { min: 1 });
    assertNumberOption('TableVerifier', 'batchLagMs', options.batchLagMs, { min: 0 });
    assertNumberOption('TableVerifier', 'minAgeMs', options.minAgeMs, { min: 0 });
    this.observer = options.observer ?? NO_OBSERVER;
    this.noticeObserver = options.noticeObserver ?? NO_NOTICE_OBSERVER;
    this.onError = options.onError ?? (() => undefined);
    this.now = options.now ?? systemClock;
  }

  start(): void {
    if (this.closed || this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.round().finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** One round: as many calls as the share admits now, for the devices most in need of a check. */
  async round(): Promise<void> {
    const quietSinceMs = this.now() - Math.max(this.options.batchLagMs, this.options.minAgeMs);
    if (this.queue.length === 0 && this.now() >= this.nextRefillAtMs) {
      this.nextRefillAtMs = this.now() + this.refillIntervalMs;
      try {
        // Enough for the rounds until the next refill, at the share's rate.
        const wanted = this.options.callsPerRound * 10 * Math.max(1, Math.ceil(this.refillIntervalMs / this.intervalMs));
        this.queue = await this.options.table.leastRecentlyVerified(wanted, quietSinceMs);
      } catch (error) {
        this.onError(asPresenceError(error));
        return;
      }
    }
    const calls: Array<Promise<void>> = [];
    for (let sent = 0; sent < this.options.callsPerRound && this.queue.length > 0 && !this.closed; sent++) {
      const grants = await this.options.share.tryAdmit();
      if (!grants) break;
      const chunk = this.takeChunk();
      calls.push(this.check(chunk, quietSinceMs).finally(() => grants.forEach((grant) => void grant.settle())));
    }
    await Promise.all(calls);
  }

  /** The next call's keys: up to 10 (BatchQuerySessionByClientIds) of the first queued key's instance, one call naming one instance. */
  private takeChunk(): BatchChunk {
    const { instanceId } = this.queue[0];
    const keys = this.queue.filter((key) => key.instanceId === instanceId).slice(0, MAX_CLIENT_IDS_PER_BATCH_CALL);
    const taken = new Set(keys);
    this.queue = this.queue.filter((key) => !taken.has(key));
    return { instanceId, keys };
  }

  private async check(chunk: BatchChunk, quietSinceMs: number): Promise<void> {
    const { table, api } = this.options;
    let called = false;
    try {
      const before = await table.getMany(chunk.keys);
      // A device noticed or checked since it was listed needs no call (nor does one forgotten since).
      const keys = chunk.keys.filter((_, i) => before[i] !== undefined && before[i]!.evidenceAtMs <= quietSinceMs);
      if (keys.length === 0) return;
      const held = new Map(chunk.keys.map((key, i) => [key, before[i]]));
      const clientIds = keys.map((key) => key.clientId);
      const checkedAtMs = this.now();
      this.observer.batchSize(clientIds.length);
      called = true;
      const answer = await api.batchQuerySessions(chunk.instanceId, clientIds);
      called = false;
      this.observer.upstreamCall(SessionAction.Batch, 'ok');
      let checked = 0;
      let disagreed = 0;
      for (const key of keys) {
        // An ID left out of the answer is not taken for offline: it is simply not checked this time.
        const online = answer.statuses.get(key.clientId);
        if (online === undefined) continue;
        checked++;
        const entry = held.get(key);
        if (entry && entry.online !== online && checkedAtMs - entry.decidedAtMs > this.options.batchLagMs) disagreed++;
        const result = await table.applyBatchAnswer(key, online, checkedAtMs, this.now());
        if (result.change) await this.options.feed.publish(result.change).catch(() => undefined);
      }
      this.noticeObserver.verified(checked, disagreed);
    } catch (thrown) {
      const error = asPresenceError(thrown);
      // The same outcome label as the dispatcher's and the poller's calls.
      if (called) this.observer.upstreamCall(SessionAction.Batch, error.upstream?.code ?? 'network');
      if (called && error instanceof UpstreamThrottledError && error.upstream) this.options.share.throttled();
      if (!this.closed) this.onError(error);
    }
  }
}
