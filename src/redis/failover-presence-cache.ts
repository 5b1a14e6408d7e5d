import { MemoryPresenceCache, type CachedPresence, type PresenceCacheStore } from '../presence/presence-cache';
import type { Logger } from '../common/logger';
import { SharedOrLocal } from './shared-or-local';

/** The shared cache, and while Redis is down this replica's own LRU, so lookups keep being answered. */
export class FailoverPresenceCache implements PresenceCacheStore {
  private readonly local = new MemoryPresenceCache();
  private readonly failover: SharedOrLocal;

  constructor(
    private readonly shared: PresenceCacheStore,
    logger: Logger,
  ) {
    this.failover = new SharedOrLocal(logger, 'the presence cache');
  }

  getMany(keys: string[]): Promise<Array<CachedPresence | undefined>> {
    return this.failover.run(
      () => this.shared.getMany(keys),
      () => this.local.getMany(keys),
    );
  }

  setMany(entries: Array<[string, CachedPresence]>, ttlMs: number): Promise<void> {
    return this.failover.run(
      () => this.shared.setMany(entries, ttlMs),
      () => this.local.setMany(entries, ttlMs),
    );
  }
}
