import { systemClock, type Clock } from '../clock';
import { NO_NOTICE_OBSERVER, type NoticeObserver, type NoticeOutcome } from './notice-observer';
import type { PresenceChangeFeed } from './presence-change-feed';
import type { ApplyResult, PresenceTableStore } from './presence-table';
import { parseStatusNotice, type StatusNotice } from './status-notice';

export interface StatusNoticeSinkOptions {
  /** The instance whose notices these are: the table is keyed by instance and Client ID. */
  instanceId: string;
  /** Group IDs this deployment consumes; a notice of another group is ignored. Empty: every group. */
  groups: readonly string[];
  table: PresenceTableStore;
  feed: PresenceChangeFeed;
  observer?: NoticeObserver;
  /** A notice that changed nothing because it was refused (malformed, or stamped far ahead): for a summary log. */
  onRefused?: (reason: string) => void;
  now?: Clock;
}

/**
 * Where every notice body goes, whichever way it came (AMQP from the cloud or a real broker, or the
 * local instance in-process): parse, keep to the configured groups, apply to the table, tell the
 * change feed. One per process.
 *
 * Resolves once the notice is applied durably (in Redis when the table is there), so the consumer
 * acks only then; rejects when the table could not take it, so the broker redelivers it. A bad
 * notice resolves (acked: redelivering it would fail the same way), counted and reported, and
 * changes nothing.
 */
export class StatusNoticeSink {
  private readonly groups: ReadonlySet<string>;
  private readonly observer: NoticeObserver;
  private readonly now: Clock;

  constructor(private readonly options: StatusNoticeSinkOptions) {
    this.groups = new Set(options.groups);
    this.observer = options.observer ?? NO_NOTICE_OBSERVER;
    this.now = options.now ?? systemClock;
  }

  /** No async step of its own: the table's promise, and one reaction to it. */
  accept(body: Buffer | string): Promise<NoticeOutcome> {
    const parsed = parseStatusNotice(body);
    if (!parsed.ok) {
      this.observer.notice('unknown', 'malformed');
      this.options.onRefused?.(parsed.reason);
      return Promise.resolve('malformed');
    }
    const { notice } = parsed;
    // A broker may deliver another group's notice on a consume (the GROUP_ID argument is a filter
    // the cloud applies, RabbitMQ does not): it is not ours to count.
    if (this.groups.size > 0 && !this.groups.has(notice.groupId)) {
      this.observer.notice(notice.eventType, 'ignored');
      return Promise.resolve('ignored');
    }
    const receivedAtMs = this.now();
    return this.options.table.applyNotice(this.options.instanceId, notice, receivedAtMs).then((result) => this.applied(notice, result, receivedAtMs));
  }

  private applied(notice: StatusNotice, result: ApplyResult, receivedAtMs: number): NoticeOutcome {
    this.observer.notice(notice.eventType, result.outcome);
    this.observer.noticeLagMs(Math.max(0, receivedAtMs - notice.timeMs));
    if (result.outcome === 'rejected') this.options.onRefused?.(result.reason ?? 'rejected');
    // At most once, like the feed itself, and not awaited: the notice is applied (the ack may go),
    // and the table already holds the change for the next query.
    if (result.change) this.options.feed.publish(result.change).catch(ignore);
    return result.outcome;
  }
}

function ignore(): void {}
