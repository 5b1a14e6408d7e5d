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
  private outbox: Array<{ message: string; resolve: () => void; reject: (error: unknown) => void }> = [];
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

  /**
   * Changes published while the process handles one I/O event (a batch of notices applied together)
   * go to Redis in one write, as a pipeline of PUBLISH on one Redis: a write syscall per command was a
   * sixth of the applying process's CPU. Each message is still one change, as before.
   */
  publish(change: PresenceChange): Promise<void> {
    return new Promise((resolve, reject) => {
      this.outbox.push({ message: JSON.stringify(change), resolve, reject });
      if (this.outbox.length === 1) process.nextTick(() => this.flush());
    });
  }

  subscribe(listener: PresenceChangeListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private flush(): void {
    const batch = this.outbox;
    this.outbox = [];
    // A cluster's pipeline must keep to one node; PUBLISH there goes to any node, one by one.
    if (batch.length === 1 || this.redis.isCluster) {
      for (const { message, resolve, reject } of batch) this.redis.publish(this.channel, message).then(() => resolve(), reject);
      return;
    }
    const pipeline = this.redis.pipeline();
    for (const { message } of batch) pipeline.publish(this.channel, message);
    pipeline.exec().then(
      (results) => batch.forEach(({ resolve, reject }, i) => (results?.[i]?.[0] ? reject(results[i][0]) : resolve())),
      (error: unknown) => batch.forEach(({ reject }) => reject(error)),
    );
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
