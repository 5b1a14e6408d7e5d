import type { PresenceChange } from './presence-table';

export type PresenceChangeListener = (change: PresenceChange) => void;

/**
 * Where the table's changes reach every replica's subscriptions. Replicas consume the notices as
 * competing consumers, so the replica that applied a notice is rarely the one holding the subscriber:
 * with Redis every change is published to all of them (redis/redis-change-feed.ts); in one process
 * this memory feed suffices. At most once, like Redis pub/sub: a subscriber that misses a change
 * still reads the right status from the table on its next query.
 */
export interface PresenceChangeFeed {
  publish(change: PresenceChange): Promise<void>;
  /** Calls `listener` with every change published from now on, until the returned function is called. */
  subscribe(listener: PresenceChangeListener): () => void;
  close(): Promise<void>;
}

/** One process: changes go straight to its listeners. */
export class MemoryChangeFeed implements PresenceChangeFeed {
  private readonly listeners = new Set<PresenceChangeListener>();

  async publish(change: PresenceChange): Promise<void> {
    for (const listener of [...this.listeners]) listener(change);
  }

  subscribe(listener: PresenceChangeListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
