import { parseClientId } from '../client-id';

/**
 * Alibaba's client status notice (status-notices.md, "The notice"): a JSON body pushed, at least once
 * and in no guaranteed order, over AMQP (queue STATUS) or a RocketMQ rule. `channelId` names one TCP
 * connection and `time` (epoch ms, the broker's clock) is the only clock: no sequence number exists.
 */
export const STATUS_NOTICE_EVENTS = ['connect', 'disconnect', 'tcpclean'] as const;

/**
 * `connect`: a TCP connection completed its MQTT CONNECT. `disconnect`: the broker received an MQTT
 * DISCONNECT packet on it (the connection ends right after). `tcpclean`: the TCP connection ended,
 * whatever the reason; a client that drops without DISCONNECT produces only this one.
 */
export type StatusNoticeEvent = (typeof STATUS_NOTICE_EVENTS)[number];

export interface StatusNotice {
  clientId: string;
  /** From the Client ID (`<GroupID>@@@<DeviceID>`): the notice's group, the unit counts and lists are kept by. */
  groupId: string;
  eventType: StatusNoticeEvent;
  /** One TCP connection: the only key pairing a `connect` with its `disconnect` / `tcpclean`. */
  channelId: string;
  /** Kept for logs only when it is a short printable string; presence never depends on it. */
  clientIp?: string;
  /** The broker's `time`: epoch milliseconds, a positive whole number. */
  timeMs: number;
}

export type ParsedStatusNotice = { ok: true; notice: StatusNotice } | { ok: false; reason: string };

/** A real notice is ~250 bytes; anything far bigger is not one, and is refused before JSON.parse. */
export const MAX_STATUS_NOTICE_BYTES = 4096;
/** Alibaba does not document channel IDs' length; seen ones are ~30 characters. A bound keeps state small. */
export const MAX_CHANNEL_ID_LENGTH = 128;
const MAX_CLIENT_IP_LENGTH = 64;
/** Printable ASCII without space: what channel IDs are made of, and nothing that could forge a log line. */
const PRINTABLE = /^[\x21-\x7e]+$/;
/** How much of a bad value a reason may quote. */
const QUOTED_CHARACTERS = 24;

/**
 * Parses one notice body. Never throws: a malformed notice is data (the consumer acks and counts it,
 * since redelivering it would fail the same way). Reasons are short and quote at most
 * QUOTED_CHARACTERS of sanitised input, because they reach logs and metrics.
 */
export function parseStatusNotice(body: Buffer | string): ParsedStatusNotice {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (length > MAX_STATUS_NOTICE_BYTES) return refuse(`body is ${length} bytes; at most ${MAX_STATUS_NOTICE_BYTES} are allowed`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return refuse('body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return refuse('body is not a JSON object');
  const fields = parsed as Record<string, unknown>;

  const { eventType, channelId, time, clientId, clientIp } = fields;
  if (typeof eventType !== 'string' || !(STATUS_NOTICE_EVENTS as readonly string[]).includes(eventType)) {
    return refuse(`eventType ${describe(eventType)} is not one of ${STATUS_NOTICE_EVENTS.join(', ')}`);
  }
  if (typeof channelId !== 'string' || channelId.length === 0) return refuse(`channelId ${describe(channelId)} is missing or empty`);
  if (channelId.length > MAX_CHANNEL_ID_LENGTH) return refuse(`channelId is ${channelId.length} characters; at most ${MAX_CHANNEL_ID_LENGTH} are allowed`);
  if (!PRINTABLE.test(channelId)) return refuse(`channelId ${describe(channelId)} has characters other than printable ASCII`);
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time <= 0) {
    return refuse(`time ${describe(time)} is not a positive whole number of milliseconds`);
  }
  if (typeof clientId !== 'string') return refuse(`clientId ${describe(clientId)} is not a string`);
  let groupId: string;
  try {
    groupId = parseClientId(clientId).groupId;
  } catch {
    return refuse(`clientId ${describe(clientId)} is not a valid Client ID`);
  }

  const notice: StatusNotice = { clientId, groupId, eventType: eventType as StatusNoticeEvent, channelId, timeMs: time };
  if (typeof clientIp === 'string' && clientIp.length <= MAX_CLIENT_IP_LENGTH && PRINTABLE.test(clientIp)) notice.clientIp = clientIp;
  return { ok: true, notice };
}

function refuse(reason: string): ParsedStatusNotice {
  return { ok: false, reason };
}

/** A bounded, sanitised picture of a bad value: its type, or its start with anything unprintable as '?'. */
function describe(value: unknown): string {
  if (value === undefined) return '(absent)';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.slice(0, QUOTED_CHARACTERS).replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '?');
    return `"${shown}${value.length > QUOTED_CHARACTERS ? '…' : ''}"`;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? String(value).slice(0, QUOTED_CHARACTERS) : String(value);
  return `(${Array.isArray(value) ? 'array' : typeof value})`;
}
