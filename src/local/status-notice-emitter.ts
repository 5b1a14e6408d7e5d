import { randomBytes } from 'node:crypto';
import type { Aedes, Client } from 'aedes';
import { silentLogger, type LocalLogger } from './logger';

/** The three client status notices of ApsaraMQ for MQTT (status-notices.md, "The notice"). */
export type StatusNoticeEventType = 'connect' | 'disconnect' | 'tcpclean';

/**
 * A status notice as the cloud sends it: its JSON body, field for field and in the cloud's order.
 * `certificateChainSn` is left out: the embedded broker has no TLS client certificates.
 */
export interface WireStatusNotice {
  clientId: string;
  eventType: StatusNoticeEventType;
  /** One TCP connection: every notice of one connection carries the same value. */
  channelId: string;
  /** Absent only when the connection had no remote address to read. */
  clientIp?: string;
  /** Epoch milliseconds. */
  time: number;
}

/**
 * Receives every notice: `body` is the JSON the cloud would deliver (a fresh Buffer per listener, so
 * it may be handed on as is), `notice` the same, parsed. Called synchronously inside the broker's
 * event handlers: keep it short; what it throws is logged and goes no further.
 */
export type StatusNoticeListener = (body: Buffer, notice: Readonly<WireStatusNotice>) => void;

export interface SubscribeOptions {
  /**
   * Delivers first, synchronously and before `subscribe` returns, the `connect` notice of every
   * connection open at that moment: a subscriber that starts after the demo devices connected (the
   * service does) hears about them. It is a redelivery of the very same bodies, which notices are
   * allowed (at least once).
   * @default false
   */
  replayOpenChannels?: boolean;
}

/** The notices of the local instance, for consumers in the same process. */
export interface LocalStatusNotices {
  /** Returns the function that unsubscribes. */
  subscribe(listener: StatusNoticeListener, options?: SubscribeOptions): () => void;
}

export interface StatusNoticeEmitterOptions {
  logger?: LocalLogger;
}

/** aedes 1.2 lib/handlers/index.js, case 'disconnect': set just before it destroys the connection. */
interface ClientAfterDisconnectPacket extends Client {
  _disconnected?: boolean;
}

/** A notice ready to deliver: the body every listener gets a copy of, and the same parsed. */
interface Sent {
  json: string;
  notice: Readonly<WireStatusNotice>;
}

interface OpenChannel {
  clientId: string;
  clientIp: string | undefined;
  /** Kept for `replayOpenChannels`. */
  connect: Sent;
}

/**
 * Makes the embedded broker emit the cloud's client status notices. ONE per local instance, observing
 * its one broker (pass `observe` to `startMqttBroker`), shared by every subscriber.
 *
 * - `connect` once the broker has written a successful CONNACK (aedes `connackSent`, return code 0). A
 *   refused CONNECT (Client ID not `<GroupID>@@@<DeviceID>`) opens no channel and produces nothing.
 * - `disconnect` when the client sent an MQTT DISCONNECT: aedes marks the client [MQTT-3.14.4-3] and
 *   closes the connection [MQTT-3.14.4-1]; it has no event for the packet, so the mark is read when the
 *   connection closes, and `disconnect` goes out just before that connection's `tcpclean`.
 * - `tcpclean` when the TCP connection has closed (its socket's `close`), for every channel that had
 *   a `connect`, after DISCONNECT or not: a client that just drops produces `tcpclean` alone.
 *
 * Session takeover [MQTT-3.1.4-2]: aedes (1.2) closes the old connection while registering the new
 * one, before it writes the new CONNACK: its events run `clientDisconnect` (old), `client` (new), the
 * old socket's `close`, `connackSent` (new). So the notices come as old `tcpclean`, then new `connect`
 * (200 takeovers out of 200 here), though the last two sit in different event-loop phases and nothing
 * guarantees it. The cloud is documented the other way round (the new channel opens before the old
 * one's `tcpclean`); consumers key on channelId and accept either, notices having no guaranteed order.
 */
export class StatusNoticeEmitter implements LocalStatusNotices {
  private readonly logger: LocalLogger;
  private readonly listeners = new Set<StatusNoticeListener>();
  private readonly open = new Map<string, OpenChannel>();
  /** Random per process, so channel IDs never repeat across restarts; the counter makes them unique within it. */
  private readonly channelPrefix = randomBytes(8).toString('hex');
  private channelCount = 0;
  private observed = false;

  constructor(options: StatusNoticeEmitterOptions = {}) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Hooks the broker; `startMqttBroker` calls it before listening when given as its `observe` option. */
  observe(aedes: Aedes): void {
    // One broker: `closed` below ends every open channel, which must all be that broker's.
    if (this.observed) throw new Error('a StatusNoticeEmitter observes one broker; create one per broker');
    this.observed = true;
    aedes.on('connackSent', (connack, client) => {
      if (connack.returnCode === 0) this.opened(client);
    });
    // close() of the broker ends every connection, but the sockets' `close` events come after it
    // resolves: the notices go out now, so whoever stops after the broker (a publisher) has them all.
    aedes.on('closed', () => {
      for (const channelId of [...this.open.keys()]) this.closed(channelId, false);
    });
  }

  subscribe(listener: StatusNoticeListener, options: SubscribeOptions = {}): () => void {
    // Registered and replayed in one synchronous step: no broker event can fall in between.
    this.listeners.add(listener);
    if (options.replayOpenChannels) {
      for (const channel of [...this.open.values()]) this.deliver(listener, channel.connect);
    }
    return () => {
      this.listeners.delete(listener);
    };
  }

  private opened(client: ClientAfterDisconnectPacket): void {
    const channelId = `${this.channelPrefix}-${++this.channelCount}`;
    const conn = client.conn as Partial<NodeJS.ReadableStream> & { remoteAddress?: string; closed?: boolean };
    const clientIp = plainIp(conn.remoteAddress);
    const connect = this.publish({ clientId: client.id, eventType: 'connect', channelId, clientIp });
    this.open.set(channelId, { clientId: client.id, clientIp, connect });
    const onClose = (): void => this.closed(channelId, client._disconnected === true);
    // CONNACK is reported a turn after it is written: the connection may have closed already.
    if (conn.closed) onClose();
    else client.conn.once('close', onClose);
  }

  private closed(channelId: string, sentDisconnect: boolean): void {
    const channel = this.open.get(channelId);
    if (!channel) return;
    this.open.delete(channelId);
    const { clientId, clientIp } = channel;
    if (sentDisconnect) this.publish({ clientId, eventType: 'disconnect', channelId, clientIp });
    this.publish({ clientId, eventType: 'tcpclean', channelId, clientIp });
  }

  /** Sends one notice to every listener. */
  private publish(fields: { clientId: string; eventType: StatusNoticeEventType; channelId: string; clientIp: string | undefined }): Sent {
    const { clientId, eventType, channelId, clientIp } = fields;
    // Built field by field: the cloud's order, and no `clientIp` key at all when there is none.
    const notice: WireStatusNotice = clientIp === undefined
      ? { clientId, eventType, channelId, time: Date.now() }
      : { clientId, eventType, channelId, clientIp, time: Date.now() };
    const sent: Sent = { json: JSON.stringify(notice), notice: Object.freeze(notice) };
    for (const listener of [...this.listeners]) this.deliver(listener, sent);
    return sent;
  }

  private deliver(listener: StatusNoticeListener, { json, notice }: Sent): void {
    try {
      listener(Buffer.from(json), notice);
    } catch (error) {
      this.logger.warn({ err: error, channelId: notice.channelId }, 'a status notice listener threw; the others still got the notice');
    }
  }
}

/** `::ffff:10.0.0.7` (an IPv4 client on a dual-stack socket) as `10.0.0.7`, the way the cloud reports IPv4. */
function plainIp(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}
