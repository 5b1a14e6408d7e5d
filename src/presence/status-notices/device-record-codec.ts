import type { ChannelState, DeviceState } from './channel-rule';
import type { DeviceRecord } from './device-record';

/**
 * A device record as bytes, for a shared store holding a million of them (redis-presence-table.ts).
 * Small on purpose: Redis keeps a hash in its compact listpack encoding only while every value is at
 * most `hash-max-listpack-value` bytes (64 by default), and a typical record (one open channel, one
 * tombstone) takes about 30.
 *
 *   byte 0      flags: bit 0 online (the status when written: what the store's scripts count and
 *               list), bits 1..4 which of lastNoticeAt, floor, batchOnlineAt, batchOfflineAt follow
 *   bytes 1..6  evidenceAtMs, unsigned 48-bit big-endian (scripts read it to find the least verified)
 *   then        each present time as a zigzag varint of (time − evidenceAtMs): times are close to the
 *               evidence, so the differences are short
 *   then        each channel: its 6-byte token, and a varint of zigzag(atMs − evidenceAtMs) × 2 + ended
 */
export const RECORD_ONLINE_FLAG = 1;
export const RECORD_EVIDENCE_OFFSET = 1;
const EVIDENCE_BYTES = 6;
const TOKEN_BYTES = 6;
const TIMES = ['lastNoticeAtMs', 'floorMs', 'batchOnlineAtMs', 'batchOfflineAtMs'] as const;

export function encodeDeviceRecord(record: DeviceRecord, online: boolean): Buffer {
  const { state, evidenceAtMs } = record;
  // At most: flags, evidence, four times, and per channel a token and a varint (≤ 8 bytes each).
  const bytes = Buffer.allocUnsafe(1 + EVIDENCE_BYTES + 4 * 8 + state.channels.length * (TOKEN_BYTES + 8));
  let flags = online ? RECORD_ONLINE_FLAG : 0;
  bytes.writeUIntBE(evidenceAtMs, RECORD_EVIDENCE_OFFSET, EVIDENCE_BYTES);
  let at = 1 + EVIDENCE_BYTES;
  TIMES.forEach((name, i) => {
    if (state[name] === 0) return;
    flags |= 2 << i;
    at = writeVarint(bytes, at, zigzag(state[name] - evidenceAtMs));
  });
  for (const channel of state.channels) {
    at += bytes.write(channel.token, at, TOKEN_BYTES, 'base64url');
    at = writeVarint(bytes, at, zigzag(channel.atMs - evidenceAtMs) * 2 + (channel.ended ? 1 : 0));
  }
  bytes[0] = flags;
  return bytes.subarray(0, at);
}

/** The record, or undefined for bytes this codec did not write (then the store treats the device as unknown). */
export function decodeDeviceRecord(bytes: Buffer): DeviceRecord | undefined {
  if (bytes.length < 1 + EVIDENCE_BYTES) return undefined;
  const flags = bytes[0];
  const evidenceAtMs = bytes.readUIntBE(RECORD_EVIDENCE_OFFSET, EVIDENCE_BYTES);
  const reader = { bytes, at: 1 + EVIDENCE_BYTES };
  const times = { lastNoticeAtMs: 0, floorMs: 0, batchOnlineAtMs: 0, batchOfflineAtMs: 0 };
  for (let i = 0; i < TIMES.length; i++) {
    if (flags & (2 << i)) {
      const value = readVarint(reader);
      if (value === undefined) return undefined;
      times[TIMES[i]] = unzigzag(value) + evidenceAtMs;
    }
  }
  const channels: ChannelState[] = [];
  while (reader.at < bytes.length) {
    if (reader.at + TOKEN_BYTES > bytes.length) return undefined;
    const token = bytes.subarray(reader.at, reader.at + TOKEN_BYTES).toString('base64url');
    reader.at += TOKEN_BYTES;
    const value = readVarint(reader);
    if (value === undefined) return undefined;
    channels.push({ token, atMs: unzigzag(Math.floor(value / 2)) + evidenceAtMs, ended: value % 2 === 1 });
  }
  const state: DeviceState = { channels, ...times };
  return { state, evidenceAtMs };
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

/** Arithmetic, not bitwise: times exceed 32 bits. Returns where the next byte goes. */
function writeVarint(bytes: Buffer, at: number, value: number): number {
  while (value >= 128) {
    bytes[at++] = (value % 128) + 128;
    value = Math.floor(value / 128);
  }
  bytes[at++] = value;
  return at;
}

function readVarint(reader: { bytes: Buffer; at: number }): number | undefined {
  let value = 0;
  for (let scale = 1; reader.at < reader.bytes.length && scale <= 2 ** 56; scale *= 128) {
    const byte = reader.bytes[reader.at++];
    value += (byte % 128) * scale;
    if (byte < 128) return value;
  }
  return undefined;
}
