import type { Logger } from '../common/logger';
import type { PresenceChangeFeed, PresenceChangeListener } from '../presence/status-notices/presence-change-feed';
import type { PresenceChange } from '../presence/status-notices/presence-table';
import type { RedisConnection } from './redis-client';

/**
 * The presence table's changes, published to every replica through Redis pub/sub (on a cluster, the
 * classic pub/sub that every node forwards): replicas consume notices as competing consumers, and a
 * subscriber must hear of a change whichever replica applied it. At most once, as pub/sub is: a
 * replica that misses one still reads the right status from the table. Needs a connection of its
 * own for SUBSCRIBE (a subscribed connection can do nothing else), made from the shared one.
 */
export class RedisChangeFeed implements PresenceChangeFeed {
  private readonly listeners = new Set<PresenceChangeListener>();
  private readonly subscriber: RedisConnection;
  private readonly channel: string;
  /** Resolves once this replica is subscribed: before that, changes published here would be missed. */
  readonly ready: Promise<void>;

  constructor(
    private readonly redis: RedisConnection,
    prefix: string,
    private readonly logger: Logger,
  ) {
    this.channel = `${prefix}presence-changes`;
    this.subscriber = redis.duplicate();
    this.subscriber.on('error', () => undefined); // the shared connection's handler reports outages
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const change = parseChange(message);
      if (!change) {
        this.logger.warn({ channel }, 'presence change feed: a message that is not a change was ignored');
        return;
      }
      for (const listener of [...this.listeners]) listener(change);
    });
    // Subscribed whenever the connection is (again) ready: it connects lazily, may start while Redis
    // is down, and comes back on its own after an outage.
    this.ready = new Promise((resolve) => {
      this.subscriber.on('ready', () => {
        this.subscriber.subscribe(this.channel).then(() => resolve(), () => undefined);
      });
    });
    this.subscriber.connect().catch(() => undefined);
  }

  async publish(change: PresenceChange): Promise<void> {
    await this.redis.publish(this.channel, JSON.stringify(change));
  }

  subscribe(listener: PresenceChangeListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.subscriber.disconnect();
  }
}

/** Only what this service publishes: anything else on the channel is not trusted. */
function parseChange(message: string): PresenceChange | undefined {
  try {
    const parsed = JSON.parse(message) as PresenceChange;
    const { key, online, atMs } = parsed;
    if (typeof key?.instanceId !== 'string' || typeof key.clientId !== 'string' || typeof online !== 'boolean' || typeof atMs !== 'number') return undefined;
    return { key: { instanceId: key.instanceId, clientId: key.clientId }, online, atMs };
  } catch {
    return undefined;
  }
}
