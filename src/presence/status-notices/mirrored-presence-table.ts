import { systemClock, type Clock } from '../clock';
import { assertNumberOption } from '../options';
import { PresenceKeyMap } from '../presence-key-map';
import { presenceKeyId, type PresenceKey } from '../types';
import type { PresenceChangeFeed } from './presence-change-feed';
import type { ApplyResult, GroupCount, OnlinePage, PresenceTableStore, TableEntry } from './presence-table';
import type { StatusNotice } from './status-notice';

export interface MirroredPresenceTableOptions {
  /** The shared table (Redis): the truth, which every write goes to. */
  shared: PresenceTableStore;
  /** Every replica's changes: a device that changed anywhere is read from the shared table again. */
  feed: PresenceChangeFeed;
  /**
   * How long a read entry is served from this process: the bound on how stale an entry can be when
   * this replica missed the change feed's message for it (pub/sub is at most once). @default 1000
   */
  ttlMs?: number;
  /** Entries kept at most; the oldest read goes first. @default 100_000 */
  maxEntries?: number;
  now?: Clock;
}

interface Mirrored {
  /** Its own key and id (not the caller's object): found by key, forgotten and evicted by id. */
  key: PresenceKey;
  id: string;
  entry: TableEntry;
  readAtMs: number;
}

/**
 * The shared presence table as one replica reads it: entries read from Redis are kept in this process
 * for `ttlMs`, so a device asked about again and again costs no round trip; a change applied on any
 * replica reaches every replica through the change feed and drops the device here, so the next read
 * asks Redis. Writes, counts, lists and the verifier's walk go straight to the shared table.
 *
 * Measured before this existed (BENCHMARKS.md, fleet): a 100-device query answered from the Redis
 * table ran at 0.12× an all-cached one, one HGET per device per request. One per process.
 */
export class MirroredPresenceTable implements PresenceTableStore {
  private readonly shared: PresenceTableStore;
  /** By id, in the order read (a Map keeps insertion order), for eviction and forgetting... */
  private readonly entries = new Map<string, Mirrored>();
  /** ...and the same by key, for reads: no id string built and hashed per device per request. */
  private readonly byKey = new PresenceKeyMap<Mirrored>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: Clock;
  private readonly unsubscribe: () => void;
  /** Age after which an entry still answered is read again in the background: half of ttlMs. */
  private readonly refreshAfterMs: number;
  /** Devices due for a background read this turn, and those whose read is out. */
  private readonly refreshing = new Map<string, PresenceKey>();
  private readonly refreshingIds = new Set<string>();
  /** Reads of the shared table under way, and the devices forgotten meanwhile (not kept from them). */
  private readsOut = 0;
  private readonly forgottenWhileReading = new Set<string>();
  /** Each device's read of the shared table under way, for other requests to join. */
  private readonly reading = new Map<string, Promise<TableEntry | undefined>>();
  private closed = false;

  constructor(options: MirroredPresenceTableOptions) {
    this.shared = options.shared;
    this.ttlMs = options.ttlMs ?? 1000;
    this.maxEntries = options.maxEntries ?? 100_000;
    assertNumberOption('MirroredPresenceTable', 'ttlMs', this.ttlMs, { min: 0 });
    assertNumberOption('MirroredPresenceTable', 'maxEntries', this.maxEntries, { min: 1, integer: true });
    this.refreshAfterMs = this.ttlMs / 2;
    this.now = options.now ?? systemClock;
    this.unsubscribe = options.feed.subscribe((change) => this.forget(presenceKeyId(change.key)));
  }

  getNow(key: PresenceKey): TableEntry | undefined {
    const held = this.byKey.get(key);
    if (!held) return undefined;
    const age = this.now() - held.readAtMs;
    if (age >= this.ttlMs) {
      this.drop(held.id);
      return undefined;
    }
    if (age >= this.refreshAfterMs) this.refreshSoon(held.id, held.key);
    return held.entry;
  }

  async getMany(keys: readonly PresenceKey[]): Promise<Array<TableEntry | undefined>> {
    const found = keys.map((key) => this.getNow(key));
    const toRead: PresenceKey[] = [];
    const toReadAt: number[] = [];
    const joined: Array<Promise<void>> = [];
    for (let i = 0; i < keys.length; i++) {
      if (found[i] !== undefined) continue;
      // A device another request is reading already: its answer, not one more read (after an idle
      // spell every request in flight misses the same devices at once).
      const reading = this.reading.get(presenceKeyId(keys[i]));
      if (reading) joined.push(reading.then((entry) => void (found[i] = entry)));
      else toRead.push(keys[i]), toReadAt.push(i);
    }
    if (toRead.length > 0) {
      const read = await this.readShared(toRead);
      toReadAt.forEach((index, i) => (found[index] = read[i]));
    }
    await Promise.all(joined);
    return found;
  }

  applyNotice(instanceId: string, notice: StatusNotice, receivedAtMs: number): Promise<ApplyResult> {
    return this.forgetAround({ instanceId, clientId: notice.clientId }, () => this.shared.applyNotice(instanceId, notice, receivedAtMs));
  }

  applyBatchAnswer(key: PresenceKey, online: boolean, checkedAtMs: number, receivedAtMs: number): Promise<ApplyResult> {
    return this.forgetAround(key, () => this.shared.applyBatchAnswer(key, online, checkedAtMs, receivedAtMs));
  }

  countGroup(instanceId: string, groupId: string): Promise<GroupCount> {
    return this.shared.countGroup(instanceId, groupId);
  }

  listOnline(instanceId: string, groupId: string, first: number, after?: string): Promise<OnlinePage> {
    return this.shared.listOnline(instanceId, groupId, first, after);
  }

  leastRecentlyVerified(limit: number, quietSinceMs: number, instanceIds?: ReadonlySet<string>): Promise<PresenceKey[]> {
    return this.shared.leastRecentlyVerified(limit, quietSinceMs, instanceIds);
  }

  size(): Promise<number> {
    return this.shared.size();
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    this.entries.clear();
    this.byKey.clear();
    this.refreshing.clear();
  }

  /**
   * This replica's own write makes what it holds old, whether or not the status flipped: forgotten
   * before the write, and again after it, in case a read that started before the write kept its answer.
   */
  private async forgetAround(key: PresenceKey, write: () => Promise<ApplyResult>): Promise<ApplyResult> {
    const id = presenceKeyId(key);
    this.forget(id);
    try {
      return await write();
    } finally {
      this.forget(id);
    }
  }

  /**
   * Reads from the shared table and keeps what it found, stamped with when the read began, except a
   * device forgotten while the read was out: its answer may predate the change that dropped it.
   */
  private async readShared(keys: readonly PresenceKey[]): Promise<Array<TableEntry | undefined>> {
    const readAtMs = this.now();
    this.readsOut++;
    const ids = keys.map(presenceKeyId);
    const reading = this.shared.getMany(keys);
    // Joiners see a failed read as "not in the table": they go on through the dispatcher, as the
    // reader does (which alone reports the error).
    const joinable = ids.map((id, i) => {
      const one = reading.then((read) => read[i], () => undefined);
      this.reading.set(id, one);
      return one;
    });
    try {
      const read = await reading;
      for (let i = 0; i < keys.length; i++) {
        const entry = read[i];
        const id = ids[i];
        if (entry && !this.closed && !this.forgottenWhileReading.has(id)) {
          this.keep({ key: { instanceId: keys[i].instanceId, clientId: keys[i].clientId }, id, entry, readAtMs });
        }
      }
      return read;
    } finally {
      ids.forEach((id, i) => this.reading.get(id) === joinable[i] && this.reading.delete(id));
      if (--this.readsOut === 0) this.forgottenWhileReading.clear();
    }
  }

  /**
   * An entry past half its ttlMs is still answered, and read again in the background with the others
   * due in the same turn of the event loop (one getMany): under steady reads an entry is renewed before
   * it expires, so no request waits on the shared table for a device it already asked about. Without
   * this, every entry read in one go expired in the same millisecond, and every request in flight then
   * read the shared table itself (the replica's 100-device query at 0.54× all-cached, fleet scenario).
   */
  private refreshSoon(id: string, key: PresenceKey): void {
    if (this.refreshing.has(id) || this.refreshingIds.has(id)) return;
    this.refreshing.set(id, key);
    if (this.refreshing.size === 1) setImmediate(this.refresh);
  }

  private readonly refresh = (): void => {
    const keys = [...this.refreshing.values()];
    const ids = [...this.refreshing.keys()];
    this.refreshing.clear();
    if (this.closed) return;
    // Marked until the read is back, so the same devices are not asked for again meanwhile.
    for (const id of ids) this.refreshingIds.add(id);
    this.readShared(keys).then(
      () => undefined,
      // The entries still expire at ttlMs, after which a read asks the shared table and meets the error.
      () => undefined,
    ).finally(() => {
      for (const id of ids) this.refreshingIds.delete(id);
    });
  };

  private forget(id: string): void {
    this.drop(id);
    // A request asking from now on reads anew rather than join a read that began before the change.
    this.reading.delete(id);
    if (this.readsOut > 0) this.forgottenWhileReading.add(id);
  }

  private drop(id: string): void {
    const held = this.entries.get(id);
    if (!held) return;
    this.entries.delete(id);
    this.byKey.delete(held.key);
  }

  private keep(mirrored: Mirrored): void {
    this.drop(mirrored.id);
    this.entries.set(mirrored.id, mirrored);
    this.byKey.set(mirrored.key, mirrored);
    // A Map keeps insertion order: the first key is the one read longest ago.
    if (this.entries.size > this.maxEntries) this.drop(this.entries.keys().next().value as string);
  }
}
