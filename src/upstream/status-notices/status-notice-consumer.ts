import { sleep } from '../../presence/clock';
import { amqpLogin } from './amqp-login';
import { ConsumerConnection } from './consumer-connection';
import { resolveConsumerOptions, type ResolvedConsumerOptions, type StatusNoticeConsumerOptions } from './consumer-options';

export type { NoticeMeta, NoticeOutcome, StatusNoticeConsumerOptions } from './consumer-options';

type State = 'idle' | 'running' | 'closing' | 'closed';

/**
 * Consumes Alibaba's client status notices (connect / disconnect / tcpclean) from the instance's
 * AMQP endpoint, as the server-side SDK's `ServerConsumer.subscribeStatus` does, with what the SDK
 * leaves out (status-notices.md): a fresh signed login for every connection, reconnection with
 * full-jitter backoff and gap events, and renewal without a gap. One per process; replicas compete
 * for the same notices, which the broker spreads among them.
 *
 * Lifecycle: idle → start() → running → close() → closing → closed. While running there is at most
 * one current connection; `onDisconnected` / `onConnected` bracket every stretch without one, which
 * is when notices may be missed (verify presence after such a gap).
 *
 * Why make-before-break for renew(): a new login signs with the current credentials (an STS key
 * about to expire, a rotated AccessKey). Opening the new connection and consuming on it before the
 * old one is closed means some consumer is always there; the two compete for the overlap, which is
 * harmless, and the old one's unacked notices are requeued to the new one when it closes.
 */
export class StatusNoticeConsumer {
  private readonly options: ResolvedConsumerOptions;
  private state: State = 'idle';
  private current: ConsumerConnection | undefined;
  private serial = 0;
  private reconnecting: Promise<void> | undefined;
  private renewing: Promise<void> | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  /** Connections on their way out (lost or replaced), awaited by close(). */
  private readonly retiring = new Set<Promise<void>>();
  /** Aborts the reconnection backoff when close() is called. */
  private readonly stopping = new AbortController();
  private readonly firstConnection: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void };
  private closed: Promise<void> | undefined;

  constructor(options: StatusNoticeConsumerOptions) {
    this.options = resolveConsumerOptions(options);
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((ok, fail) => ((resolve = ok), (reject = fail)));
    // Handled here so that a caller who does not await start() gets no unhandled rejection on close().
    promise.catch(() => undefined);
    this.firstConnection = { promise, resolve, reject };
  }

  /**
   * Starts consuming and resolves once it consumes on every group, retrying failed logins with
   * backoff until then; rejects only if close() comes first. Do not await it when the service must
   * start without the broker: `onConnected` says when consuming begins.
   */
  start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`StatusNoticeConsumer: start() may be called once (now ${this.state})`);
    this.state = 'running';
    this.reconnect(false);
    this.scheduleRenewal();
    return this.firstConnection.promise;
  }

  /**
   * Logs in again on a new connection, consumes on it, and only then closes the old one. Rejects when
   * the new login fails; the old connection then keeps consuming. Concurrent calls share one renewal;
   * during a reconnection it does nothing (that login is fresh anyway).
   */
  renew(): Promise<void> {
    if (this.state !== 'running') return Promise.reject(new Error(`StatusNoticeConsumer: renew() needs a running consumer (now ${this.state})`));
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /** Stops consuming, waits for running handlers (up to drainTimeoutMs), closes every connection. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.state = 'closing';
      clearTimeout(this.renewTimer);
      this.stopping.abort();
      this.firstConnection.reject(new Error('StatusNoticeConsumer closed before it was consuming'));
      await Promise.allSettled([this.reconnecting, this.renewing]);
      const last = this.current;
      this.current = undefined;
      await Promise.allSettled([last?.close(), ...this.retiring]);
      this.state = 'closed';
    })();
    return this.closed;
  }

  /** Logs in until a connection consumes, unless one appears meanwhile (a renewal) or close() is called. */
  private reconnect(afterLoss: boolean): void {
    if (this.reconnecting || this.state !== 'running') return;
    this.reconnecting = (async () => {
      // attempt n waits before it (full jitter); the very first login at start() does not wait.
      for (let attempt = afterLoss ? 0 : -1; this.state === 'running' && this.current === undefined; attempt++) {
        if (attempt >= 0) {
          const ceilingMs = Math.min(this.options.reconnectMaxDelayMs, this.options.reconnectBaseDelayMs * 2 ** attempt);
          const stopped = await sleep(this.options.random() * ceilingMs, this.stopping.signal).then(
            () => false,
            () => true,
          );
          if (stopped || this.current !== undefined) return;
        }
        const connection = await this.openConnection().catch((error: unknown) => {
          this.options.logger.warn({ failedAttempts: attempt + 2, err: error instanceof Error ? error.message : String(error) }, 'status notice login failed; retrying');
          return undefined;
        });
        if (!connection) continue;
        if (this.state !== 'running' || this.current !== undefined) {
          await connection.close();
          return;
        }
        this.current = connection;
        this.connected();
      }
    })().finally(() => (this.reconnecting = undefined));
  }

  private async renewOnce(): Promise<void> {
    const old = this.current;
    if (!old) return;
    const fresh = await this.openConnection();
    if (this.state !== 'running' || (this.current !== old && this.current !== undefined)) {
      await fresh.close();
      return;
    }
    const wasLost = this.current === undefined;
    this.current = fresh;
    this.options.logger.info({ replacedWhileLost: wasLost }, 'status notice login renewed');
    if (wasLost) this.connected();
    else await this.retire(old);
  }

  /** A fresh ts and the current credentials for every login (amqp-login.ts says why). */
  private async openConnection(): Promise<ConsumerConnection> {
    const credential = await this.options.credentials();
    const login = amqpLogin(credential, this.options.instanceId, this.options.now());
    return ConsumerConnection.open({
      ...this.options,
      login,
      serial: ++this.serial,
      onLost: (connection, reason) => this.lost(connection, reason),
    });
  }

  private lost(connection: ConsumerConnection, reason: string): void {
    void this.retire(connection);
    if (connection !== this.current) return;
    this.current = undefined;
    const atMs = this.options.now();
    this.options.logger.warn({ reason }, 'status notice connection lost; reconnecting');
    this.notify('onDisconnected', atMs);
    this.reconnect(true);
  }

  private connected(): void {
    this.notify('onConnected', this.options.now());
    this.firstConnection.resolve();
  }

  private retire(connection: ConsumerConnection): Promise<void> {
    const closing = connection.close().finally(() => this.retiring.delete(closing));
    this.retiring.add(closing);
    return closing;
  }

  private scheduleRenewal(): void {
    const everyMs = this.options.renewEveryMs;
    if (everyMs === undefined || this.state !== 'running') return;
    this.renewTimer = setTimeout(() => {
      this.renew()
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'scheduled status notice login renewal failed; the current connection stays'),
        )
        .finally(() => this.scheduleRenewal());
    }, everyMs);
    this.renewTimer.unref();
  }

  /** The caller's callbacks must never break the consumer. */
  private notify(event: 'onConnected' | 'onDisconnected', atMs: number): void {
    try {
      this.options[event]?.(atMs);
    } catch (error) {
      this.options.logger.warn({ event, err: error instanceof Error ? error.message : String(error) }, 'status notice lifecycle callback threw');
    }
  }
}
