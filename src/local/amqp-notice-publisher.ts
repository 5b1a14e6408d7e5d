import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { STATUS_NOTICE_QUEUE } from '../upstream/status-notices/amqp-login';
import { vhostUrls } from './amqp-vhost-url';
import { silentLogger, type LocalLogger } from './logger';

export interface AmqpNoticePublisherOptions {
  /**
   * `amqp://user:password@host:5672` (or `amqps://`). The credentials are the publisher's own set-up
   * user (`guest` locally), never logged. The path would select the virtual host in amqplib: notices
   * always go to `MQTT`, as in the cloud, so the path must be empty, `/` or `/MQTT`; anything else is
   * refused rather than silently ignored. Query parameters pass through (`?heartbeat=30`).
   */
  url: string;
  /** The queue notices are published to, asserted durable on every connection. @default 'STATUS' */
  queue?: string;
  /**
   * Notices kept while the broker is away or has not confirmed them yet. Past it, the OLDEST is dropped
   * and counted in `droppedNotices` (if it had been sent already, it may still arrive): a consumer
   * repairs lost notices by verifying, never from this buffer. @default 10_000
   */
  maxBufferedNotices?: number;
  /** Delay before the first reconnection attempt; it doubles after each failure. @default 500 */
  reconnectDelayMs?: number;
  /** The longest delay between reconnection attempts. @default 30_000 */
  maxReconnectDelayMs?: number;
  /** How long `close()` waits for buffered notices to be confirmed before it gives up on them. @default 5_000 */
  closeTimeoutMs?: number;
  /** Shown by the broker (`connection_name`), to tell this connection from others. @default 'presence-graph local status notices' */
  connectionName?: string;
  logger?: LocalLogger;
}

export interface AmqpNoticePublisher {
  /** Buffers one notice body and publishes it as soon as a connection is up; never blocks or throws. */
  publish(body: Buffer): void;
  /** Resolves once every notice given so far is confirmed by the broker or dropped. */
  flushed(): Promise<void>;
  /** Notices not yet confirmed: waiting for a connection, or sent and awaiting the broker's confirm. */
  readonly bufferedNotices: number;
  /** Notices dropped since start: the buffer was full, `close()` gave up on them, or they came after it. */
  readonly droppedNotices: number;
  /** Stops reconnecting, waits up to `closeTimeoutMs` for the buffer to be confirmed, then disconnects. */
  close(): Promise<void>;
}

interface Entry {
  body: Buffer;
  /** Set when dropped while in flight: its late confirm must not count. */
  dropped: boolean;
}

/**
 * Publishes the local instance's status notices to a real AMQP broker (RabbitMQ), where a consumer
 * reads them as it would read the cloud's: vhost `MQTT`, queue `STATUS`. ONE per local instance.
 *
 * At least once, in order: a notice leaves the buffer only when the broker confirms it (publisher
 * confirms), and after a lost connection every unconfirmed notice is sent again, oldest first, before
 * any newer one. A notice the broker took but could not confirm before the connection went is thus
 * delivered twice, which status notices allow (consumers are idempotent). Persistent messages in a
 * durable queue survive a broker restart.
 *
 * The connection is remade outside the publishing code: a lost connection only moves unconfirmed
 * notices back to the front of the waiting line and schedules the next attempt, with a doubling delay.
 */
export function startAmqpNoticePublisher(options: AmqpNoticePublisherOptions): AmqpNoticePublisher {
  const settings = validated(options);
  const { queue, maxBufferedNotices, closeTimeoutMs, logger, connectionUrl, loggableUrl } = settings;

  /** Sent on the current channel, awaiting the broker's confirm; all older than anything in `waiting`. */
  const inFlight = new Set<Entry>();
  let waiting: Entry[] = [];
  let droppedNotices = 0;
  let droppedThisOutage = 0;
  let connection: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;
  /** Bumped for each connection, so callbacks of a finished one change nothing. */
  let generation = 0;
  let nextDelayMs = settings.reconnectDelayMs;
  let retryTimer: NodeJS.Timeout | undefined;
  let closing = false;
  let emptyWaiters: Array<() => void> = [];

  const buffered = (): number => inFlight.size + waiting.length;

  void connect();

  return {
    publish(body) {
      if (closing) {
        droppedNotices++;
        return;
      }
      if (buffered() >= maxBufferedNotices) dropOldest();
      waiting.push({ body, dropped: false });
      sendWaiting();
    },
    flushed,
    get bufferedNotices() {
      return buffered();
    },
    get droppedNotices() {
      return droppedNotices;
    },
    async close() {
      if (closing) return;
      closing = true;
      clearTimeout(retryTimer);
      if (channel && buffered() > 0) await Promise.race([flushed(), new Promise((resolve) => setTimeout(resolve, closeTimeoutMs).unref())]);
      if (buffered() > 0) {
        logger.warn({ url: loggableUrl, queue, undelivered: buffered() }, 'status notices left unpublished at shutdown');
        droppedNotices += buffered();
        inFlight.forEach((entry) => (entry.dropped = true));
        inFlight.clear();
        waiting = [];
        notifyIfEmpty();
      }
      const open = connection;
      generation++;
      connection = undefined;
      channel = undefined;
      if (open) await closeQuietly(open);
    },
  };

  async function connect(): Promise<void> {
    retryTimer = undefined;
    const attempt = ++generation;
    let opened: ChannelModel | undefined;
    // Until the set-up below is done, a failure rejects what it awaits; a close that lands between two
    // steps is remembered and handled as a failed attempt too.
    let ready = false;
    let closedEarly: Error | undefined;
    const onClose = (error?: Error): void => {
      if (ready) lost(attempt, error);
      else closedEarly ??= error ?? new Error('connection closed during set-up');
    };
    try {
      // noDelay: a notice is one small frame; Nagle's algorithm would hold it back behind an unacknowledged one.
      opened = await amqp.connect(connectionUrl, { noDelay: true, clientProperties: { connection_name: settings.connectionName } });
      // Without a listener an 'error' event would crash the process; 'close' always follows it.
      opened.on('error', () => undefined);
      opened.on('close', onClose);
      const confirmChannel = await opened.createConfirmChannel();
      confirmChannel.on('error', () => undefined);
      // amqplib closes the channels (failing their unconfirmed publishes) before it reports the
      // connection's close with its cause: deferred, so that cause is what gets logged.
      confirmChannel.on('close', () => queueMicrotask(() => onClose()));
      await confirmChannel.assertQueue(queue, { durable: true });
      if (closedEarly) throw closedEarly;
      if (attempt !== generation || closing) {
        await closeQuietly(opened);
        return;
      }
      ready = true;
      connection = opened;
      channel = confirmChannel;
      nextDelayMs = settings.reconnectDelayMs;
      logger.info({ url: loggableUrl, queue, resending: waiting.length, droppedWhileAway: droppedThisOutage }, 'publishing status notices to AMQP');
      droppedThisOutage = 0;
      sendWaiting();
    } catch (error) {
      if (opened) await closeQuietly(opened);
      if (attempt !== generation || closing) return;
      logger.warn({ url: loggableUrl, error: messageOf(error), retryInMs: nextDelayMs, buffered: buffered() }, 'cannot publish status notices to AMQP; retrying');
      scheduleReconnect();
    }
  }

  /** The connection or its channel went: resend everything unconfirmed on the next one. */
  function lost(attempt: number, error?: Error): void {
    if (attempt !== generation || closing) return;
    generation++;
    const old = connection;
    connection = undefined;
    channel = undefined;
    waiting = [...inFlight, ...waiting];
    inFlight.clear();
    // A channel closed alone (a broker error on it) leaves its connection open: close it too.
    if (old) void closeQuietly(old);
    logger.warn({ url: loggableUrl, error: error ? messageOf(error) : 'closed', buffered: buffered() }, 'lost the AMQP connection for status notices; reconnecting');
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    const delayMs = nextDelayMs;
    nextDelayMs = Math.min(nextDelayMs * 2, settings.maxReconnectDelayMs);
    retryTimer = setTimeout(() => void connect(), delayMs);
  }

  function sendWaiting(): void {
    const sending = channel;
    if (!sending) return;
    const attempt = generation;
    while (waiting.length > 0 && channel === sending) {
      const entry = waiting.shift()!;
      inFlight.add(entry);
      try {
        // The default exchange routes by queue name. Persistent (delivery mode 2), so a durable queue
        // keeps it across a broker restart. amqplib buffers when the socket is busy: the bound on this
        // buffer bounds that one too.
        sending.publish('', queue, entry.body, { persistent: true, contentType: 'application/json' }, (error) => confirmed(entry, attempt, error));
      } catch (error) {
        // The channel closed under us (amqplib throws "Channel closed"); its 'close' event resends.
        lost(attempt, error as Error);
      }
    }
  }

  function confirmed(entry: Entry, attempt: number, error: unknown): void {
    if (attempt !== generation || entry.dropped) return;
    if (error) {
      // A nack (the broker could not take it), or the channel closing: either way, reconnecting resends
      // it with everything after it, in order. Deferred like the channel's close, for the same reason.
      queueMicrotask(() => lost(attempt, error as Error));
      return;
    }
    inFlight.delete(entry);
    notifyIfEmpty();
  }

  function dropOldest(): void {
    const oldest: Entry | undefined = inFlight.values().next().value ?? waiting[0];
    if (!oldest) return;
    oldest.dropped = true;
    if (!inFlight.delete(oldest)) waiting.shift();
    droppedNotices++;
    if (droppedThisOutage++ === 0) {
      logger.warn({ url: loggableUrl, maxBufferedNotices }, 'status notice buffer full: dropping the oldest notices until the AMQP broker is back');
    }
  }

  function flushed(): Promise<void> {
    if (buffered() === 0) return Promise.resolve();
    return new Promise((resolve) => emptyWaiters.push(resolve));
  }

  function notifyIfEmpty(): void {
    if (buffered() > 0) return;
    const resolve = emptyWaiters;
    emptyWaiters = [];
    for (const waiter of resolve) waiter();
  }
}

interface Settings {
  queue: string;
  maxBufferedNotices: number;
  reconnectDelayMs: number;
  maxReconnectDelayMs: number;
  closeTimeoutMs: number;
  connectionName: string;
  logger: LocalLogger;
  /** The URL amqplib gets: credentials kept, vhost forced to MQTT. */
  connectionUrl: string;
  /** The URL logs get: no userinfo. */
  loggableUrl: string;
}

function validated(options: AmqpNoticePublisherOptions): Settings {
  const { connectionUrl, loggableUrl } = vhostUrls(options.url);
  const queue = options.queue ?? STATUS_NOTICE_QUEUE;
  // AMQP 0-9-1 short strings: at most 255 bytes.
  if (queue === '' || Buffer.byteLength(queue) > 255) throw new TypeError(`queue must be 1 to 255 bytes; got ${JSON.stringify(queue)}`);
  const settings = {
    queue,
    maxBufferedNotices: options.maxBufferedNotices ?? 10_000,
    reconnectDelayMs: options.reconnectDelayMs ?? 500,
    maxReconnectDelayMs: options.maxReconnectDelayMs ?? 30_000,
    closeTimeoutMs: options.closeTimeoutMs ?? 5_000,
    connectionName: options.connectionName ?? 'presence-graph local status notices',
    logger: options.logger ?? silentLogger,
    connectionUrl,
    loggableUrl,
  };
  if (!Number.isSafeInteger(settings.maxBufferedNotices) || settings.maxBufferedNotices < 1) {
    throw new TypeError(`maxBufferedNotices must be a positive whole number; got ${settings.maxBufferedNotices}`);
  }
  for (const name of ['reconnectDelayMs', 'maxReconnectDelayMs', 'closeTimeoutMs'] as const) {
    const value = settings[name];
    if (!Number.isFinite(value) || value < (name === 'closeTimeoutMs' ? 0 : 1)) throw new TypeError(`${name} must be a finite number of milliseconds${name === 'closeTimeoutMs' ? '' : ' above 0'}; got ${value}`);
  }
  if (settings.maxReconnectDelayMs < settings.reconnectDelayMs) {
    throw new TypeError(`maxReconnectDelayMs (${settings.maxReconnectDelayMs}) must not be below reconnectDelayMs (${settings.reconnectDelayMs})`);
  }
  return settings;
}

/** amqplib's close() waits for the broker's CloseOk, and never settles if the socket ends first. */
function closeQuietly(connection: ChannelModel): Promise<void> {
  return new Promise((resolve) => {
    connection.once('close', () => resolve());
    connection.close().then(resolve, () => resolve());
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
