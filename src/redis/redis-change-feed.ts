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
 *
 * A message carries every change published while the process handled one I/O event (a batch of
 * notices applied together), as a JSON array of `[instanceId, clientId, online, atMs]`: one PUBLISH,
 * and on every replica one message to decode, instead of one of each per change. Per change they were
 * a fifth of the applying process's CPU (docs/status-notices.md). A message holding one change as an
 * object (`{key, online, atMs}`, what replicas before the batched form publish) is still understood.
 */
export class RedisChangeFeed implements PresenceChangeFeed {
  private readonly listeners = new Set<PresenceChangeListener>();
  private readonly subscriber: RedisConnection;
  private readonly channel: string;
  /** The changes waiting for the next flush, and the one promise all of their publish() calls answer. */
  private outbox: PresenceChange[] = [];
  private sent: Promise<void> | undefined;
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
      const changes = parseChanges(message);
      if (changes.length === 0) {
        this.logger.warn({ channel }, 'presence change feed: a message that is not a change was ignored');
        return;
      }
      const listeners = [...this.listeners];
      for (const change of changes) for (const listener of listeners) listener(change);
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

  /** Resolves (or rejects) with the one PUBLISH that carries this change and the others of its I/O event. */
  publish(change: PresenceChange): Promise<void> {
    this.outbox.push(change);
    this.sent ??= new Promise<void>((resolve) => process.nextTick(resolve)).then(() => this.flush());
    return this.sent;
  }

  subscribe(listener: PresenceChangeListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private async flush(): Promise<void> {
    const batch = this.outbox;
    this.outbox = [];
    this.sent = undefined;
    await this.redis.publish(this.channel, encodeChanges(batch));
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.subscriber.disconnect();
  }
}

type ChangeTuple = [instanceId: string, clientId: string, online: boolean, atMs: number];

export function encodeChanges(changes: readonly PresenceChange[]): string {
  return JSON.stringify(changes.map((change): ChangeTuple => [change.key.instanceId, change.key.clientId, change.online, change.atMs]));
}

/**
 * Only what this service publishes: anything else on the channel is not trusted. The changes of a
 * message, in order; an entry of the wrong shape is left out (none left: the caller warns).
 */
export function parseChanges(message: string): PresenceChange[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) {
    const single = singleChange(parsed);
    return single ? [single] : [];
  }
  const changes: PresenceChange[] = [];
  for (const entry of parsed as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 4) continue;
    const [instanceId, clientId, online, atMs] = entry as unknown[];
    if (typeof instanceId !== 'string' || typeof clientId !== 'string' || typeof online !== 'boolean' || typeof atMs !== 'number') continue;
    changes.push({ key: { instanceId, clientId }, online, atMs });
  }
  return changes;
}

/** The form of one change per message. */
function singleChange(parsed: unknown): PresenceChange | undefined {
  const { key, online, atMs } = (parsed ?? {}) as Partial<PresenceChange>;
  if (typeof key?.instanceId !== 'string' || typeof key.clientId !== 'string' || typeof online !== 'boolean' || typeof atMs !== 'number') return undefined;
  return { key: { instanceId: key.instanceId, clientId: key.clientId }, online, atMs };
}
