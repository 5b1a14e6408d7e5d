import { presenceKeyId, type PresenceKey, type PresenceOrigin } from './types';

/** One status of a watched device: its current status when first known, then each change. */
export interface PresenceChange {
  readonly key: PresenceKey;
  readonly online: boolean;
  /** When the source saw this status: the broker's connect or disconnect, or the poll's answer. */
  readonly at: Date;
  /** True for the status a watch starts with (the current one); false for a change after it. */
  readonly initial: boolean;
  /**
   * Where the source had this status, as a lookup would report it: `events` for the status notices
   * and the local broker's own connects and disconnects, `upstream` for the poller's batch answers,
   * or the origin of the lookup a first status came from. The event's `device` answers `online` and
   * `presence` from it (presence-change.type.ts), with no lookup of its own.
   */
  readonly origin: PresenceOrigin;
}

export type PresenceListener = (change: PresenceChange) => void;

/**
 * Where subscriptions learn about presence: pushed by the local instance's broker, or polled from the
 * upstream by one shared poller. ONE per process, shared by every subscription; transport-free.
 */
export interface PresenceWatch {
  /**
   * Calls `listener` with the current status of each key (`initial: true`) as soon as the source
   * knows it, then with every change, until the returned function is called. Keys must already be
   * valid (client-id.ts) and de-duplicated. Throws `InvalidInputError` for keys this source cannot
   * watch. Listeners are called from the source's own events and must not throw. `owner` names who
   * watches (the caller): a source that must share a budget between watchers (the poller) shares it
   * between owners, so one owner's many keys cannot crowd out another's few.
   */
  watch(keys: readonly PresenceKey[], listener: PresenceListener, owner?: string): () => void;
  /** Ends every watch and timer: for shutdown. */
  close(): void;
}

/**
 * Who watches which key, for both sources: a change is looked up by key in one map, so a thousand
 * watchers of one device cost one lookup per change, not a thousand listeners on an emitter.
 */
export class WatcherRegistry {
  private readonly byKey = new Map<string, { key: PresenceKey; listeners: Set<PresenceListener> }>();

  /**
   * Registers `listener` for `keys`; the returned function removes it again (idempotent). `onFirst`
   * and `onLast` fire when a key gains its first watcher and loses its last one.
   */
  add(
    keys: readonly PresenceKey[],
    listener: PresenceListener,
    hooks: { onFirst?: (key: PresenceKey, id: string) => void; onLast?: (id: string) => void } = {},
  ): () => void {
    const ids = keys.map(presenceKeyId);
    ids.forEach((id, i) => {
      let entry = this.byKey.get(id);
      if (!entry) {
        entry = { key: keys[i], listeners: new Set() };
        this.byKey.set(id, entry);
        hooks.onFirst?.(keys[i], id);
      }
      entry.listeners.add(listener);
    });
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      for (const id of ids) {
        const entry = this.byKey.get(id);
        if (!entry?.listeners.delete(listener) || entry.listeners.size > 0) continue;
        this.byKey.delete(id);
        hooks.onLast?.(id);
      }
    };
  }

  /** Tells every watcher of `change.key`. */
  notify(change: PresenceChange): void {
    const entry = this.byKey.get(presenceKeyId(change.key));
    if (!entry) return;
    for (const listener of [...entry.listeners]) listener(change);
  }

  isWatched(id: string): boolean {
    return this.byKey.has(id);
  }

  /** Every watched key, once each (the union over all watchers), in the order first watched. */
  keys(): PresenceKey[] {
    return [...this.byKey.values()].map((entry) => entry.key);
  }

  get size(): number {
    return this.byKey.size;
  }

  clear(): void {
    this.byKey.clear();
  }
}
