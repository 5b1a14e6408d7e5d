import { hash } from 'node:crypto';
import { assertNumberOption } from '../options';
import type { StatusNotice } from './status-notice';

/**
 * Alibaba's rule for a client's current status (status-notices.md, "Alibaba's rule", its demo
 * MQTTClientStatusNoticeProcessDemo): a channel (one TCP connection) is online once its `connect` has
 * arrived and its end has not, whichever arrives first; a client is online while any channel is
 * (a takeover opens the second channel before the first one's `tcpclean`). We also treat
 * `disconnect` as an end: it is only sent on an MQTT DISCONNECT packet, after which the connection ends.
 *
 * WHY a state of max-registers: notices come at least once and in no order, so the state is built as
 * a join (a union of facts, each kept as a maximum) and applying is commutative, associative and
 * idempotent. Any permutation of any multiset of a device's notices (and batch answers) gives the
 * same state, hence the same status. The only departure is the bound on remembered channels (see
 * `prune`); its residual risk is written there.
 */

/** One channel: `atMs` is the latest notice time seen for it; while it is open, that is its `connect`'s time. */
export interface ChannelState {
  /** 48 bits of the channel ID's SHA-1 (channelToken): fixed size, whatever Alibaba puts in channel IDs. */
  readonly token: string;
  readonly atMs: number;
  /** Its `disconnect` or `tcpclean` has arrived: a tombstone, so a late redelivered `connect` changes nothing. */
  readonly ended: boolean;
}

/** Everything known about one device. Times are the broker's (notice `time`) or the batch answer's `checkedAt`; 0 = none. */
export interface DeviceState {
  /** Sorted by token, so equal knowledge has one representation. */
  readonly channels: readonly ChannelState[];
  /** The newest notice time seen for the device (of any channel, kept or forgotten). */
  readonly lastNoticeAtMs: number;
  /** The newest `atMs` of a channel forgotten by `prune`: a notice at or before it, for a channel not kept, is ignored. */
  readonly floorMs: number;
  /** The latest `checkedAt` of a batch answer saying online. */
  readonly batchOnlineAtMs: number;
  /** The latest `checkedAt` of a batch answer saying offline. */
  readonly batchOfflineAtMs: number;
}

export const EMPTY_DEVICE_STATE: DeviceState = Object.freeze({ channels: Object.freeze([]), lastNoticeAtMs: 0, floorMs: 0, batchOnlineAtMs: 0, batchOfflineAtMs: 0 });

export interface DeviceStatus {
  online: boolean;
  decidedBy: 'notice' | 'batch';
  /** The notice time (or batch `checkedAt`) that decided it. */
  decidedAtMs: number;
}

export interface ChannelRuleOptions {
  /**
   * How far BatchQuerySessionByClientIds may lag behind the truth (upstream-api.md: it answers from
   * an internal cache). A batch answer never overrides what a notice younger than this, compared to
   * the answer's `checkedAt`, decided. @default 10_000
   */
  batchLagMs?: number;
  /** Channels (open and tombstones) remembered per device, at least 2 (a takeover holds two). @default 4 */
  maxChannelsPerDevice?: number;
  /**
   * How long a tombstone is kept after the device's newest notice or batch answer; Alibaba's older demo
   * purged finished entries after 30 minutes. A redelivery later than this is treated as unknown. @default 1_800_000
   */
  tombstoneRetentionMs?: number;
}

type NoticeFacts = Pick<StatusNotice, 'eventType' | 'channelId' | 'timeMs'>;

export class ChannelRule {
  readonly batchLagMs: number;
  readonly maxChannelsPerDevice: number;
  readonly tombstoneRetentionMs: number;

  constructor(options: ChannelRuleOptions = {}) {
    this.batchLagMs = options.batchLagMs ?? 10_000;
    this.maxChannelsPerDevice = options.maxChannelsPerDevice ?? 4;
    this.tombstoneRetentionMs = options.tombstoneRetentionMs ?? 30 * 60_000;
    assertNumberOption('ChannelRule', 'batchLagMs', this.batchLagMs, { integer: true });
    assertNumberOption('ChannelRule', 'maxChannelsPerDevice', this.maxChannelsPerDevice, { min: 2, integer: true });
    assertNumberOption('ChannelRule', 'tombstoneRetentionMs', this.tombstoneRetentionMs, { min: 1, integer: true });
  }

  /** The state with this notice's facts joined in; the very same object when it adds nothing (a redelivery). */
  applyNotice(state: DeviceState, notice: NoticeFacts): DeviceState {
    const token = channelToken(notice.channelId);
    const ended = notice.eventType !== 'connect';
    const channels = [...state.channels];
    const at = tokenIndex(channels, token);
    if (channels[at]?.token === token) {
      const held = channels[at];
      channels[at] = { token, atMs: Math.max(held.atMs, notice.timeMs), ended: held.ended || ended };
    } else {
      // A channel forgotten by prune: its notices are all at or before the floor (see prune).
      if (notice.timeMs <= state.floorMs) return state;
      channels.splice(at, 0, { token, atMs: notice.timeMs, ended });
    }
    return this.settle(state, { ...state, channels, lastNoticeAtMs: Math.max(state.lastNoticeAtMs, notice.timeMs) });
  }

  /**
   * Joins in a BatchQuerySessionByClientIds answer asked at `checkedAtMs`. Nothing is overwritten:
   * the answer is kept as a register and weighed by `status`, which is what keeps notices order
   * independent around it. What it means there:
   * - offline at C closes every open channel whose `connect` is at or before C − batchLagMs (a lost
   *   `tcpclean`); a channel opened later stays open (the batch cache may not have seen it yet);
   * - online at C, while no channel is open, makes the device online by batch, unless a later offline
   *   answer exists or any notice is newer than C − batchLagMs: such a notice is a fact the batch cache
   *   may not have seen, so the channels decide again (a `connect` opens one; a `tcpclean` of the
   *   unknown channel the batch saw ends it).
   */
  applyBatchAnswer(state: DeviceState, online: boolean, checkedAtMs: number): DeviceState {
    const next = online
      ? { ...state, batchOnlineAtMs: Math.max(state.batchOnlineAtMs, checkedAtMs) }
      : { ...state, batchOfflineAtMs: Math.max(state.batchOfflineAtMs, checkedAtMs) };
    return this.settle(state, next);
  }

  /** The device's status, or undefined for a state that knows nothing. */
  status(state: DeviceState): DeviceStatus | undefined {
    const closedBefore = this.closedBeforeMs(state);
    let openAt = 0;
    for (const channel of state.channels) {
      if (!channel.ended && channel.atMs > closedBefore) openAt = Math.max(openAt, channel.atMs);
    }
    if (openAt > 0) return { online: true, decidedBy: 'notice', decidedAtMs: openAt };
    const { batchOnlineAtMs: onAt, batchOfflineAtMs: offAt, lastNoticeAtMs: noticeAt } = state;
    if (onAt > 0 && onAt > offAt && noticeAt <= onAt - this.batchLagMs) return { online: true, decidedBy: 'batch', decidedAtMs: onAt };
    if (offAt > 0 && offAt >= noticeAt) return { online: false, decidedBy: 'batch', decidedAtMs: offAt };
    if (noticeAt > 0) return { online: false, decidedBy: 'notice', decidedAtMs: noticeAt };
    return undefined;
  }

  /** Channels whose `connect` is at or before this count as closed by a batch answer saying offline. */
  private closedBeforeMs(state: DeviceState): number {
    return state.batchOfflineAtMs > 0 ? state.batchOfflineAtMs - this.batchLagMs : -Infinity;
  }

  private settle(before: DeviceState, joined: DeviceState): DeviceState {
    const next = this.prune(joined);
    return sameState(before, next) ? before : next;
  }

  /**
   * Bounds what a device remembers. First, a finished channel (ended, or closed by a batch answer)
   * older than tombstoneRetentionMs before the device's newest input is forgotten; then, over
   * maxChannelsPerDevice, the channels with the oldest `atMs` go, open or not (finished first on a
   * tie). Oldest, not finished-first: dropping a recent tombstone would raise the floor past the
   * `connect` of a channel still on its way (a takeover's old channel ends after the new one
   * connects). The floor rises to the newest forgotten `atMs`, and a notice for an unknown channel at
   * or before it is ignored.
   *
   * Residual risk, and where order independence stops being exact: every notice of a forgotten
   * finished channel is at or before its `atMs` (one broker stamps a connection's events, and a
   * `connect` precedes its end), so a late redelivered `connect` cannot reopen it. What can go wrong:
   * (1) an open channel forgotten because maxChannelsPerDevice newer channels arrived first: with
   * takeovers it was taken over and its `tcpclean` is on its way, but until then the device may read
   * offline too early; (2) the `connect` of a channel older than the floor, arriving after the
   * channels that raised it were forgotten (more than tombstoneRetentionMs late, or after
   * maxChannelsPerDevice newer channels): ignored. Both leave the status offline until the next
   * notice or batch answer; the verifier's batch re-checks correct it.
   */
  private prune(state: DeviceState): DeviceState {
    const closedBefore = this.closedBeforeMs(state);
    const horizon = Math.max(state.lastNoticeAtMs, state.batchOnlineAtMs, state.batchOfflineAtMs) - this.tombstoneRetentionMs;
    const finished = (channel: ChannelState) => channel.ended || channel.atMs <= closedBefore;
    // The common case, checked without allocating: nothing to forget.
    if (state.channels.length <= this.maxChannelsPerDevice && !state.channels.some((channel) => finished(channel) && channel.atMs <= horizon)) return state;
    let kept = state.channels.filter((channel) => !(finished(channel) && channel.atMs <= horizon));
    if (kept.length > this.maxChannelsPerDevice) {
      const byAge = [...kept].sort((a, b) => a.atMs - b.atMs || Number(finished(b)) - Number(finished(a)) || compare(a.token, b.token));
      const dropped = new Set(byAge.slice(0, kept.length - this.maxChannelsPerDevice));
      kept = kept.filter((channel) => !dropped.has(channel));
    }
    if (kept.length === state.channels.length) return state;
    let floorMs = state.floorMs;
    for (const channel of state.channels) if (!kept.includes(channel)) floorMs = Math.max(floorMs, channel.atMs);
    return { ...state, channels: kept, floorMs };
  }
}

/**
 * 48 bits of SHA-1, as 8 base64url characters: channel IDs are opaque and up to 128 characters, and a
 * device remembers a handful of channels, so a collision (2^-48 per pair) is far below any other risk.
 */
export function channelToken(channelId: string): string {
  // 8 base64url characters are exactly the digest's first 6 bytes. The one-shot hash is ~3x cheaper than createHash.
  return hash('sha1', channelId, 'base64url').slice(0, 8);
}

export function sameState(a: DeviceState, b: DeviceState): boolean {
  if (a === b) return true;
  if (a.lastNoticeAtMs !== b.lastNoticeAtMs || a.floorMs !== b.floorMs || a.batchOnlineAtMs !== b.batchOnlineAtMs || a.batchOfflineAtMs !== b.batchOfflineAtMs) return false;
  if (a.channels.length !== b.channels.length) return false;
  return a.channels.every((channel, i) => {
    const other = b.channels[i];
    return channel.token === other.token && channel.atMs === other.atMs && channel.ended === other.ended;
  });
}

/** Where `token` is in the sorted channels, or where it would go. */
function tokenIndex(channels: readonly ChannelState[], token: string): number {
  let index = 0;
  while (index < channels.length && compare(channels[index].token, token) < 0) index++;
  return index;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
