import * as amqp from 'amqplib';
import type { Logger } from '../../common/logger';
import { sleep } from '../../presence/clock';
import { AckWindow } from './ack-window';
import { GROUP_ID_ARGUMENT, SIGN_KEY_PROPERTY, STATUS_NOTICE_VHOST, type AmqpLogin } from './amqp-login';
import type { NoticeMeta, NoticeOutcome, ResolvedConsumerOptions } from './consumer-options';

export interface ConsumerConnectionSettings
  extends Pick<
    ResolvedConsumerOptions,
    'endpoint' | 'queue' | 'groups' | 'prefetch' | 'heartbeatSeconds' | 'connectTimeoutMs' | 'redeliveryDelayMs' | 'drainTimeoutMs' | 'onNotice' | 'now'
  > {
  login: AmqpLogin;
  /** Numbers the connections in the logs. */
  serial: number;
  logger: Logger;
  /** Once, when the broker or the network ends the connection or its channel (not after close()). */
  onLost: (connection: ConsumerConnection, reason: string) => void;
}

/**
 * One signed AMQP connection with one channel consuming the status queue once per Group ID, as
 * `ServerConsumer.subscribeStatus` does: `basic.consume("STATUS", autoAck=false, {GROUP_ID: group})`.
 * It never reconnects: the consumer (status-notice-consumer.ts) replaces a lost one with a new login.
 *
 * Acks follow the handler, never precede it: a notice is acked once `onNotice` resolves (several
 * together with `multiple`, ack-window.ts, once all of them are applied), and handed
 * back (nack, requeue) when it rejects. Alibaba's SDK nacks *without* requeue on a processing error,
 * which drops the notice; a presence store that was briefly down would then stay wrong, so we requeue,
 * after `redeliveryDelayMs` so a down store is not hammered (the held delivery counts against the
 * prefetch, which slows the broker down too). Whatever is unacked when the connection ends, the broker
 * requeues: every handler must be idempotent (status-notices.md: at least once, in no order).
 */
export class ConsumerConnection {
  private channel: amqp.Channel | undefined;
  /** What is applied is acked in runs (ack-window.ts). */
  private readonly acks = new AckWindow((message, multiple) => this.settle(message, 'ack', multiple));
  /** Deliveries whose handler has not settled yet; close() waits for them (up to drainTimeoutMs). */
  private running = 0;
  /** Called when `running` drops to 0 while close() waits. */
  private drained: (() => void) | undefined;
  /** Aborted by close(): notices held before a nack are handed back at once. */
  private readonly closing = new AbortController();
  private consumerTags: string[] = [];
  private opened = false;
  private ended = false;
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly settings: ConsumerConnectionSettings,
    private readonly model: amqp.ChannelModel,
  ) {}

  /** Logs in and consumes on every group; rejects (and leaves nothing open) if any step fails. */
  static async open(settings: ConsumerConnectionSettings): Promise<ConsumerConnection> {
    const { endpoint, login } = settings;
    const model = await amqp.connect(
      {
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: endpoint.port,
        username: login.username,
        password: login.password,
        vhost: STATUS_NOTICE_VHOST,
        heartbeat: settings.heartbeatSeconds,
        locale: 'en_US',
      },
      {
        // amqplib merges these into its own client properties (connect.js, openFrames).
        clientProperties: { [SIGN_KEY_PROPERTY]: login.signKey, connection_name: `presence-graph status notices #${settings.serial}` },
        // Covers the TCP connect and the handshake; amqplib lifts it once the connection is open.
        timeout: settings.connectTimeoutMs,
        servername: endpoint.hostname,
      },
    );
    const connection = new ConsumerConnection(settings, model);
    try {
      await connection.consume();
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  }

  /**
   * Graceful: cancels the consumers (no new deliveries), waits up to `drainTimeoutMs` for running
   * handlers to ack, then closes the connection; the broker requeues anything still unacked.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing.abort();
      if (!this.ended) {
        await Promise.all(this.consumerTags.map((tag) => this.channel?.cancel(tag).catch(() => undefined)));
      }
      await this.drain();
      this.acks.flush();
      await this.model.close().catch(() => undefined);
      this.settings.logger.info({ connection: this.settings.serial }, 'status notice connection closed');
    })();
    return this.closed;
  }

  private async consume(): Promise<void> {
    const { logger, serial } = this.settings;
    this.model.on('error', (error: Error) => logger.warn({ connection: serial, err: error.message }, 'status notice connection error'));
    this.model.on('close', () => this.end('connection closed'));
    const channel = await this.model.createChannel();
    this.channel = channel;
    channel.on('error', (error: Error) => logger.warn({ connection: serial, err: error.message }, 'status notice channel error'));
    // A channel closed under a live connection (a refused consume, a deleted queue) ends it all:
    // the consumer logs in afresh rather than patching channels as the Go SDK's checkChannel does.
    channel.on('close', () => this.end('channel closed'));
    // RabbitMQ reads global=false as a limit per consumer, i.e. per Group ID.
    await channel.prefetch(this.settings.prefetch, false);
    for (const group of this.settings.groups) {
      const { consumerTag } = await channel.consume(this.settings.queue, (message) => this.deliver(group, message), {
        noAck: false,
        arguments: { [GROUP_ID_ARGUMENT]: group },
      });
      this.consumerTags.push(consumerTag);
    }
    // The connection may have closed between the last consume-ok and here: then it never opened.
    if (this.ended) throw new Error('status notice connection closed while it was opening');
    this.opened = true;
    logger.info({ connection: serial, groups: this.settings.groups.length, queue: this.settings.queue }, 'status notice connection consuming');
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    if (this.closed || !this.opened) return;
    this.model.close().catch(() => undefined);
    this.settings.onLost(this, reason);
  }

  private deliver(group: string, message: amqp.ConsumeMessage | null): void {
    if (message === null) {
      // basic.cancel from the broker (the queue was deleted): this connection consumes no more.
      this.settings.logger.warn({ connection: this.settings.serial, group }, 'the broker cancelled a status notice consumer');
      this.end('consumer cancelled by the broker');
      return;
    }
    this.acks.delivered(message);
    const meta: NoticeMeta = { group, redelivered: message.fields.redelivered, receivedAtMs: this.settings.now() };
    this.running++;
    // No async function and no promise of its own per delivery: the handler's promise, settled here.
    let outcome: Promise<NoticeOutcome>;
    try {
      outcome = Promise.resolve(this.settings.onNotice(message.content, meta));
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      (settled) => this.applied(message, meta, settled),
      (error: unknown) => void this.failed(message, meta, error),
    );
  }

  private applied(message: amqp.ConsumeMessage, meta: NoticeMeta, outcome: NoticeOutcome): void {
    if (outcome === 'ignored') this.settings.logger.debug({ connection: this.settings.serial, group: meta.group }, 'status notice ignored by its handler; acked');
    this.acks.applied(message);
    this.finished();
  }

  /** Hands the delivery back (nack, requeue) after redeliveryDelayMs, or at once when closing. */
  private async failed(message: amqp.ConsumeMessage, meta: NoticeMeta, error: unknown): Promise<void> {
    this.acks.failing(message);
    this.settings.logger.warn(
      { connection: this.settings.serial, group: meta.group, err: error instanceof Error ? error.message : String(error) },
      'status notice not applied; handing it back to the broker for redelivery',
    );
    await sleep(this.settings.redeliveryDelayMs, this.closing.signal).catch(() => undefined);
    this.settle(message, 'nack');
    this.acks.handedBack(message);
    this.finished();
  }

  private finished(): void {
    if (--this.running === 0) this.drained?.();
  }

  private settle(message: amqp.ConsumeMessage, how: 'ack' | 'nack', multiple = false): void {
    // After the channel ends the broker has requeued the delivery already; amqplib would throw.
    if (this.ended || !this.channel) return;
    try {
      if (how === 'ack') this.channel.ack(message, multiple);
      else this.channel.nack(message, false, true);
    } catch {
      // Closed in the meantime: same as above.
    }
  }

  private async drain(): Promise<void> {
    if (this.running === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await new Promise<'drained' | 'timeout'>((resolve) => {
      this.drained = () => resolve('drained');
      timer = setTimeout(() => resolve('timeout'), this.settings.drainTimeoutMs);
    });
    clearTimeout(timer);
    this.drained = undefined;
    if (outcome === 'timeout') {
      this.settings.logger.warn(
        { connection: this.settings.serial, running: this.running, drainTimeoutMs: this.settings.drainTimeoutMs },
        'status notice handlers still running at close; the broker will redeliver their notices',
      );
    }
  }
}
