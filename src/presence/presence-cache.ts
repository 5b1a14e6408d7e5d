import { systemClock, type Clock } from './clock';
import { assertNumberOption } from './options';

/** A status as the upstream last gave it. Only statuses are stored: a failure is never cached. */
export interface CachedPresence {
  online: boolean;
  /**
   * Clock time the upstream was asked (its call sent): the status is no older than that. Freshness
   * and staleness are judged from it by the reader, and of two answers for one key the one asked
   * later wins, whichever came back first.
   */
  checkedAtMs: number;
}

/**
 * Where fetched statuses are kept, keyed by `presenceKeyId`. The store only keeps and expires entries;
 * the dispatcher decides what is fresh (`cacheTtlMs`) and what may be served stale
 * (`staleIfErrorMs`), so a shared implementation (Redis: MGET, and SET … PX in a pipeline) stays dumb.
 */
export interface PresenceCacheStore {
  /** Parallel to `keys`; `undefined` for a key not stored (or expired). */
  getMany(keys: string[]): Promise<Array<CachedPresence | undefined>>;
  /**
   * Stores each entry, to be dropped `ttlMs` after now, unless the store holds one asked later for
   * that key (a greater `checkedAtMs`): a batch call sent before an exact one may answer after it,
   * and must not put its older status back.
   */
  setMany(entries: Array<[string, CachedPresence]>, ttlMs: number): Promise<void>;
  /**
   * One entry at once, for a store in this process (the memory cache): lets a lookup the cache can
   * answer skip a promise. A shared store (Redis) has none; `getMany` answers for it.
   */
  getNow?(key: string): CachedPresence | undefined;
}

export interface MemoryPresenceCacheOptions {
  /** Entries kept at most; the least recently used goes first, @default 100_000. */
  maxEntries?: number;
  now?: Clock;
}

/**
 * A per-process LRU: a `Map` keeps insertion order, so re-inserting an entry on a read or write makes
 * the first key the least recently used. Bounded, because keys come from callers.
 *
 * A read re-inserts an entry only when it has fallen out of the newest quarter of the map (judged by
 * a counter of insertions, `stamp`), so reads of hot keys cost a `get`, not a `delete` and a `set`.
 * Eviction stays bounded and nearly LRU: an entry read survives at least `maxEntries - slack - 1`
 * further insertions (exact for the newest entry, and for any entry when `maxEntries` < 4).
 */
export class MemoryPresenceCache implements PresenceCacheStore {
  private readonly entries = new Map<string, { value: CachedPresence; expiresAtMs: number; stamp: number }>();
  private readonly maxEntries: number;
  /** How many insertions an entry may lag behind the newest before a read re-inserts it. */
  private readonly slack: number;
  private readonly now: Clock;
  private insertions = 0;
  /**
   * Where eviction left off: a live iterator over `entries`, oldest first. V8 keeps the slot of a
   * deleted Map entry until the table is next rebuilt, so a fresh `keys()` on every eviction walked
   * past every entry evicted since then: measured, a full cache (100,000 entries) took 5 to 15 µs per
   * stored status instead of 0.8. A kept iterator walks past each slot once. Everything before it
   * has been evicted; an entry re-inserted later comes again at the end, as LRU wants.
   */
  private evictionCursor: Iterator<string> | undefined;

  constructor(options: MemoryPresenceCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    assertNumberOption('MemoryPresenceCache', 'maxEntries', this.maxEntries, { min: 1, integer: true });
    this.slack = Math.floor(this.maxEntries / 4);
    this.now = options.now ?? systemClock;
  }

  async getMany(keys: string[]): Promise<Array<CachedPresence | undefined>> {
    const now = this.now();
    const found: Array<CachedPresence | undefined> = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) found[i] = this.read(keys[i], now);
    return found;
  }

  getNow(key: string): CachedPresence | undefined {
    return this.read(key, this.now());
  }

  private read(key: string, now: number): CachedPresence | undefined {
    const entry = this.entries.get(key);
    if (!entry || entry.expiresAtMs <= now) {
      if (entry) this.entries.delete(key);
      return undefined;
    }
    if (this.insertions - entry.stamp > this.slack) {
      this.entries.delete(key);
      entry.stamp = ++this.insertions;
      this.entries.set(key, entry);
    }
    return entry.value;
  }

  async setMany(entries: Array<[string, CachedPresence]>, ttlMs: number): Promise<void> {
    const now = this.now();
    const expiresAtMs = now + ttlMs;
    for (const [key, value] of entries) {
      const held = this.entries.get(key);
      if (held !== undefined && held.expiresAtMs > now && held.value.checkedAtMs > value.checkedAtMs) continue;
      this.entries.delete(key);
      this.entries.set(key, { value, expiresAtMs, stamp: ++this.insertions });
    }
    while (this.entries.size > this.maxEntries) {
      let oldest = (this.evictionCursor ??= this.entries.keys()).next();
      // A Map iterator that has reached the end stays done, even once entries are added after it.
      if (oldest.done) oldest = (this.evictionCursor = this.entries.keys()).next();
      this.entries.delete(oldest.value as string);
    }
    // Far below the bound, the cursor has nothing to do for a while, and it would keep alive the
    // table V8 had before shrinking this one: let it go (a new one starts when the cache is full).
    if (this.entries.size < this.maxEntries / 2) this.evictionCursor = undefined;
  }
}
