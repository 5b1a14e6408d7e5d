import { assertNumberOption } from '../options';
import type { PresenceKey } from '../types';
import { ChannelRule, EMPTY_DEVICE_STATE, type ChannelRuleOptions, type DeviceState } from './channel-rule';
import type { ApplyResult, TableEntry } from './presence-table';
import type { StatusNotice } from './status-notice';

/** What a table stores per device: the rule's state and the evidence time (presence-table.ts, TableEntry). */
export interface DeviceRecord {
  readonly state: DeviceState;
  readonly evidenceAtMs: number;
}

export interface PresenceTableOptions extends ChannelRuleOptions {
  /**
   * How far ahead of the service clock a notice's `time` may be (clock skew between Alibaba's broker
   * and us). A notice beyond it is rejected: its time would outweigh every later notice. @default 300_000
   */
  maxNoticeAheadMs?: number;
}

/** The outcome of one update: `record` is the new one to store (and `online` its status), absent when nothing changed. */
export interface RecordUpdate {
  record?: DeviceRecord;
  online?: boolean;
  result: ApplyResult;
}

/**
 * The one place both tables (memory, Redis) turn a notice or batch answer into a new record, its
 * outcome and its change: a table only fetches the record, calls this, and stores what it returns
 * (the Redis one compare-and-sets it, so the rule is written once, in TypeScript).
 */
export class DeviceRecordUpdates {
  readonly rule: ChannelRule;
  private readonly maxNoticeAheadMs: number;

  constructor(owner: string, options: PresenceTableOptions = {}) {
    this.rule = new ChannelRule(options);
    this.maxNoticeAheadMs = options.maxNoticeAheadMs ?? 300_000;
    assertNumberOption(owner, 'maxNoticeAheadMs', this.maxNoticeAheadMs, { integer: true });
  }

  notice(held: DeviceRecord | undefined, key: PresenceKey, notice: StatusNotice, receivedAtMs: number): RecordUpdate {
    if (notice.timeMs > receivedAtMs + this.maxNoticeAheadMs) {
      return { result: { outcome: 'rejected', reason: `notice time is ${notice.timeMs - receivedAtMs} ms ahead of the service clock` } };
    }
    const before = held?.state ?? EMPTY_DEVICE_STATE;
    const state = this.rule.applyNotice(before, notice);
    if (state === before) return { result: { outcome: 'duplicate' } };
    return this.settle(held, key, { state, evidenceAtMs: Math.max(held?.evidenceAtMs ?? 0, receivedAtMs) });
  }

  /**
   * The answer speaks for the moment it was asked, so an agreeing answer is evidence as of
   * `checkedAtMs` (never later than its arrival): one asked before a consumer gap proves nothing after it.
   */
  batch(held: DeviceRecord | undefined, key: PresenceKey, online: boolean, checkedAtMs: number, receivedAtMs: number): RecordUpdate {
    const state = this.rule.applyBatchAnswer(held?.state ?? EMPTY_DEVICE_STATE, online, checkedAtMs);
    const agrees = this.rule.status(state)?.online === online;
    const heldEvidence = held?.evidenceAtMs ?? 0;
    const evidenceAtMs = agrees ? Math.max(heldEvidence, Math.min(checkedAtMs, receivedAtMs)) : heldEvidence;
    if (held && state === held.state && evidenceAtMs === heldEvidence) return { result: { outcome: 'duplicate' } };
    return this.settle(held, key, { state, evidenceAtMs });
  }

  entry(record: DeviceRecord): TableEntry | undefined {
    const status = this.rule.status(record.state);
    return status && { online: status.online, decidedAtMs: status.decidedAtMs, decidedBy: status.decidedBy, evidenceAtMs: record.evidenceAtMs };
  }

  private settle(held: DeviceRecord | undefined, key: PresenceKey, record: DeviceRecord): RecordUpdate {
    const wasOnline = held ? this.rule.status(held.state)?.online === true : false;
    const status = this.rule.status(record.state);
    const result: ApplyResult = { outcome: 'applied' };
    if (status && status.online !== wasOnline) result.change = { key, online: status.online, atMs: status.decidedAtMs };
    return { record, online: status?.online === true, result };
  }
}
