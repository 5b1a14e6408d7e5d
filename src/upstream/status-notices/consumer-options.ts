import type { Logger } from '../../common/logger';
import type { AccessKeyCredential } from '../../config/upstream';
import { assertNumberOption } from '../../presence/options';
import { STATUS_NOTICE_QUEUE, STATUS_NOTICE_VHOST } from './amqp-login';

/** What the consumer knows about one delivery, besides its body. */
export interface NoticeMeta {
  /** The MQTT Group ID whose `basic.consume` received it. */
  group: string;
  /** The broker delivered it before (to us or to another replica) without an ack: handle idempotently. */
  redelivered: boolean;
  /** When it reached this process, ms since the epoch. */
  receivedAtMs: number;
}

/**
 * 'applied': stored durably, ack it. 'ignored': malformed or not wanted, ack it all the same (a
 * redelivery would not change the verdict). Reject only when it should come again (the store is down).
 */
export type NoticeOutcome = 'applied' | 'ignored';

export interface StatusNoticeConsumerOptions {
  /**
   * The instance's server endpoint, `amqp://host:port` or `amqps://host:port` (port defaults 5672 /
   * 5671). No user:password: the login is always the signed one. The vhost is always MQTT; a path
   * naming another one is refused.
   */
  url: string;
  instanceId: string;
  /** The MQTT Group IDs watched: one `basic.consume` each on the queue, argument `GROUP_ID`. */
  groups: readonly string[];
  /** Asked before every login, so each one signs a fresh ts with the current (possibly rotated) key. */
  credentials: () => Promise<AccessKeyCredential>;
  /** Resolve once the notice is durably applied (or deliberately ignored): only then is it acked. */
  onNotice: (body: Buffer, meta: NoticeMeta) => Promise<NoticeOutcome>;
  logger: Logger;
  /** When consuming on every group again (first start and each reconnection; not after a renew). */
  onConnected?: (atMs: number) => void;
  /** When the connection was lost: notices may be missed from here until the next `onConnected`. */
  onDisconnected?: (atMs: number) => void;
  /** @default 'STATUS'; tests use a queue of their own. */
  queue?: string;
  /**
   * Unacked deliveries per group (RabbitMQ's per-consumer `basic.qos`): at most `prefetch × groups`
   * handlers run at once. @default 256
   */
  prefetch?: number;
  /** @default 10, as the Go SDK (`buildAmqpConfig`) */
  heartbeatSeconds?: number;
  /** TCP connect and AMQP handshake, together. @default 10000 */
  connectTimeoutMs?: number;
  /** Reconnection waits a random time in [0, min(max, base · 2^n)) (full jitter). @default 500 */
  reconnectBaseDelayMs?: number;
  /** @default 30000 */
  reconnectMaxDelayMs?: number;
  /** Hold a notice whose handler rejected this long before handing it back, so a down store is not hammered. @default 1000 */
  redeliveryDelayMs?: number;
  /** How long close() and a renewal wait for running handlers before closing anyway. @default 10000 */
  drainTimeoutMs?: number;
  /** Renew the login (make-before-break) this often; off when absent. */
  renewEveryMs?: number;
  /** @default Date.now */
  now?: () => number;
  /** In [0, 1), for the jitter. @default Math.random */
  random?: () => number;
}

/** Where and how one connection logs in: the parsed URL, never a credential. */
export interface AmqpEndpoint {
  protocol: 'amqp' | 'amqps';
  hostname: string;
  port: number;
}

export type ResolvedConsumerOptions = Required<Omit<StatusNoticeConsumerOptions, 'onConnected' | 'onDisconnected' | 'renewEveryMs'>> &
  Pick<StatusNoticeConsumerOptions, 'onConnected' | 'onDisconnected' | 'renewEveryMs'> & { endpoint: AmqpEndpoint };

const OWNER = 'StatusNoticeConsumer';

/** Defaults in one place; every bad value refused here, naming the option. */
export function resolveConsumerOptions(options: StatusNoticeConsumerOptions): ResolvedConsumerOptions {
  const resolved = {
    queue: STATUS_NOTICE_QUEUE,
    prefetch: 256,
    heartbeatSeconds: 10,
    connectTimeoutMs: 10_000,
    reconnectBaseDelayMs: 500,
    reconnectMaxDelayMs: 30_000,
    redeliveryDelayMs: 1_000,
    drainTimeoutMs: 10_000,
    now: Date.now,
    random: Math.random,
    ...withoutUndefined(options),
    endpoint: parseEndpoint(options.url),
  };
  if (typeof resolved.instanceId !== 'string' || resolved.instanceId === '') throw new TypeError(`${OWNER}: instanceId must be a non-empty string`);
  if (!Array.isArray(resolved.groups) || resolved.groups.length === 0 || resolved.groups.some((group) => typeof group !== 'string' || group === '')) {
    throw new TypeError(`${OWNER}: groups must list at least one MQTT Group ID (non-empty strings); got ${JSON.stringify(resolved.groups)}`);
  }
  if (new Set(resolved.groups).size !== resolved.groups.length) throw new TypeError(`${OWNER}: groups must not repeat a Group ID; got ${JSON.stringify(resolved.groups)}`);
  if (typeof resolved.queue !== 'string' || resolved.queue === '') throw new TypeError(`${OWNER}: queue must be a non-empty string`);
  for (const name of ['credentials', 'onNotice', 'now', 'random'] as const) {
    if (typeof resolved[name] !== 'function') throw new TypeError(`${OWNER}: ${name} must be a function`);
  }
  // basic.qos prefetch-count is a 16-bit field; 0 would mean "unbounded".
  assertNumberOption(OWNER, 'prefetch', resolved.prefetch, { min: 1, integer: true });
  if (resolved.prefetch > 65_535) throw new TypeError(`${OWNER}: prefetch must be at most 65535; got ${resolved.prefetch}`);
  assertNumberOption(OWNER, 'heartbeatSeconds', resolved.heartbeatSeconds, { min: 1, integer: true });
  assertNumberOption(OWNER, 'connectTimeoutMs', resolved.connectTimeoutMs, { min: 1 });
  assertNumberOption(OWNER, 'reconnectBaseDelayMs', resolved.reconnectBaseDelayMs, { min: 1 });
  assertNumberOption(OWNER, 'reconnectMaxDelayMs', resolved.reconnectMaxDelayMs, { min: resolved.reconnectBaseDelayMs });
  assertNumberOption(OWNER, 'redeliveryDelayMs', resolved.redeliveryDelayMs);
  assertNumberOption(OWNER, 'drainTimeoutMs', resolved.drainTimeoutMs);
  if (resolved.renewEveryMs !== undefined) assertNumberOption(OWNER, 'renewEveryMs', resolved.renewEveryMs, { min: 1_000 });
  return resolved;
}

function parseEndpoint(url: string): AmqpEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`${OWNER}: url must be an amqp:// or amqps:// URL; got ${JSON.stringify(url)}`);
  }
  const protocol = parsed.protocol.slice(0, -1);
  if (protocol !== 'amqp' && protocol !== 'amqps') throw new TypeError(`${OWNER}: url must use amqp:// or amqps://; got ${protocol}://`);
  // Never echo userinfo back: it may be a password.
  if (parsed.username !== '' || parsed.password !== '') {
    throw new TypeError(`${OWNER}: url must not carry user:password (the login is always Alibaba's signed one, from credentials)`);
  }
  if (parsed.hostname === '') throw new TypeError(`${OWNER}: url needs a host`);
  const vhost = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (vhost !== '' && vhost !== STATUS_NOTICE_VHOST) {
    throw new TypeError(`${OWNER}: url names vhost ${JSON.stringify(vhost)}; status notices are only on vhost ${STATUS_NOTICE_VHOST} (leave the path empty)`);
  }
  if (parsed.search !== '') throw new TypeError(`${OWNER}: url must not carry a query string (use the options: heartbeatSeconds, …)`);
  return {
    protocol,
    hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port === '' ? (protocol === 'amqp' ? 5672 : 5671) : Number(parsed.port),
  };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
