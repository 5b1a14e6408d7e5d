import type { LookupAllowance } from '../fair-share';
import { systemClock, type Clock } from '../clock';
import type { PresenceKey, PresenceLookup, PresenceObserver, PresenceResult, PresenceStatus } from '../types';
import { NO_OBSERVER } from '../types';
import type { NoticeTrust } from './notice-trust';
import type { PresenceChangeFeed } from './presence-change-feed';
import type { PresenceTableStore, TableEntry } from './presence-table';

export interface NoticeBackedLookupOptions {
  /** The dispatcher: BatchQuerySessionByClientIds (and the cache) for what the table cannot answer. */
  dispatcher: PresenceLookup;
  table: PresenceTableStore;
  trust: NoticeTrust;
  feed: PresenceChangeFeed;
  observer?: PresenceObserver;
  /** The table could not be read or seeded (Redis away): lookups go on through the dispatcher. */
  onTableError?: (error: unknown) => void;
  now?: Clock;
}

/**
 * The three documented methods together (status-notices.md): a device whose status the notices
 * decide, with evidence since the consumer was last caught up (notice-trust.ts), is answered from the
 * table with no upstream call (origin `events`); any other goes to the dispatcher exactly as without
 * notices, and the batch answer seeds the table, so the next read of it needs no call either.
 * `exact` lookups always ask QuerySessionByClientId. One per process.
 */
export class NoticeBackedLookup implements PresenceLookup {
  private readonly dispatcher: PresenceLookup;
  private readonly observer: PresenceObserver;
  private readonly now: Clock;
  private readonly onTableError: (error: unknown) => void;
  readonly cachedNow?: (key: PresenceKey) => PresenceStatus | undefined;
  /** Keys `cachedNow` answered from the table and not yet reported to the observer. */
  private answeredNow = 0;
  private readonly reportAnsweredNow = (): void => {
    this.observer.lookupsAnswered('events', this.answeredNow);
    this.answeredNow = 0;
  };

  constructor(private readonly options: NoticeBackedLookupOptions) {
    this.dispatcher = options.dispatcher;
    this.observer = options.observer ?? NO_OBSERVER;
    this.now = options.now ?? systemClock;
    this.onTableError = options.onTableError ?? (() => undefined);
    const { table } = options;
    // A table held in this process (memory, or the mirror of the shared one) can answer at once;
    // what it cannot, `lookup` reads.
    if (table.getNow) {
      const getNow = table.getNow.bind(table);
      this.cachedNow = (key) => {
        const entry = getNow(key);
        if (entry !== undefined && this.options.trust.trusts(entry.evidenceAtMs)) {
          // Reported once per tick, not once per key: this runs for every device of every request.
          if (this.answeredNow++ === 0) void Promise.resolve().then(this.reportAnsweredNow);
          return statusOf(entry);
        }
        return this.dispatcher.cachedNow?.(key);
      };
    }
  }

  async lookup(keys: readonly PresenceKey[], allowance?: LookupAllowance): Promise<PresenceResult[]> {
    const entries = await this.entries(keys);
    const results: PresenceResult[] = new Array(keys.length);
    const asked: PresenceKey[] = [];
    const askedAt: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const entry = entries[i];
      if (entry !== undefined && this.options.trust.trusts(entry.evidenceAtMs)) {
        results[i] = statusOf(entry);
      } else {
        asked.push(keys[i]);
        askedAt.push(i);
      }
    }
    const fromTable = keys.length - asked.length;
    if (fromTable > 0) this.observer.lookupsAnswered('events', fromTable);
    if (asked.length === 0) return results;
    const answers = await this.dispatcher.lookup(asked, allowance);
    for (let i = 0; i < answers.length; i++) results[askedAt[i]] = answers[i];
    this.seed(asked, answers);
    return results;
  }

  lookupExact(keys: readonly PresenceKey[], allowance?: LookupAllowance): Promise<PresenceResult[]> {
    return this.dispatcher.lookupExact(keys, allowance);
  }

  private async entries(keys: readonly PresenceKey[]): Promise<Array<TableEntry | undefined>> {
    try {
      return await this.options.table.getMany(keys);
    } catch (error) {
      this.onTableError(error);
      return new Array(keys.length);
    }
  }

  /**
   * Fresh batch answers go into the table: the device is known from now on, and the notices keep it
   * right. Not awaited: the caller has its answer, and a failed seed only means the next read asks again.
   * The change goes to the feed at most once, as the sink's do: a publish that fails (Redis away) is
   * dropped, never left as a rejection nobody handles, which would end the process.
   */
  private seed(keys: readonly PresenceKey[], answers: readonly PresenceResult[]): void {
    const receivedAtMs = this.now();
    for (let i = 0; i < keys.length; i++) {
      const answer = answers[i];
      if (answer instanceof Error || answer.origin !== 'upstream') continue;
      this.options.table.applyBatchAnswer(keys[i], answer.online, answer.checkedAtMs, receivedAtMs).then((result) => {
        if (result.change) this.options.feed.publish(result.change).catch(ignore);
      }, this.onTableError);
    }
  }
}

/** The table's status as an answer: `checkedAt` is when the notice (or batch answer) that decided it was stamped. */
export function statusOf(entry: TableEntry): PresenceStatus {
  return { online: entry.online, checkedAtMs: entry.decidedAtMs, stale: false, origin: 'events' };
}

function ignore(): void {}
