import { isValidClientId, parseClientId } from '../client-id';
import { assertNumberOption } from '../options';
import { PresenceKeyMap } from '../presence-key-map';
import { presenceKeyId, type PresenceKey } from '../types';
import { DeviceRecordUpdates, type DeviceRecord, type PresenceTableOptions, type RecordUpdate } from './device-record';
import {
  assertPageSize,
  assertValidGroupId,
  decodeCursor,
  encodeCursor,
  type ApplyResult,
  type GroupCount,
  type OnlinePage,
  type PresenceTableStore,
  type TableEntry,
} from './presence-table';
import type { StatusNotice } from './status-notice';

export interface MemoryPresenceTableOptions extends PresenceTableOptions {
  /**
   * Devices kept at most. Over it, the device with the oldest evidence is forgotten: it becomes
   * unknown (answered by the batch action again, and re-learnt from its next notice), never wrong.
   * @default 100_000
   */
  maxDevices?: number;
}

interface HeldDevice {
  readonly key: PresenceKey;
  readonly group: Group;
  record: DeviceRecord;
  online: boolean;
  /** What a read answers, computed when the record is stored: a read allocates nothing. */
  entry: TableEntry | undefined;
}

interface Group {
  readonly id: string;
  known: number;
  readonly online: Set<string>;
  /** The online Client IDs sorted, rebuilt by the first listing after a change. */
  sorted?: string[];
}

/**
 * The presence table of one replica (no Redis). Every update is synchronous, so each is atomic.
 * `devices` is kept in the order evidence was last refreshed (an update re-inserts its device): the
 * eviction order, least recently evidenced first. `byKey` finds a device without building its id
 * string: reads (every device of every query) take that way, and get the entry made when it was stored.
 */
export class MemoryPresenceTable implements PresenceTableStore {
  private readonly updates: DeviceRecordUpdates;
  private readonly maxDevices: number;
  private readonly devices = new Map<string, HeldDevice>();
  private readonly byKey = new PresenceKeyMap<HeldDevice>();
  private readonly groups = new Map<string, Group>();

  constructor(options: MemoryPresenceTableOptions = {}) {
    this.updates = new DeviceRecordUpdates('MemoryPresenceTable', options);
    this.maxDevices = options.maxDevices ?? 100_000;
    assertNumberOption('MemoryPresenceTable', 'maxDevices', this.maxDevices, { min: 1, integer: true });
  }

  async applyNotice(instanceId: string, notice: StatusNotice, receivedAtMs: number): Promise<ApplyResult> {
    const key = { instanceId, clientId: notice.clientId };
    const held = this.byKey.get(key);
    return this.store(key, notice.groupId, held, this.updates.notice(held?.record, key, notice, receivedAtMs));
  }

  async applyBatchAnswer(key: PresenceKey, online: boolean, checkedAtMs: number, receivedAtMs: number): Promise<ApplyResult> {
    const held = this.byKey.get(key);
    const { groupId } = parseClientId(key.clientId);
    return this.store(key, groupId, held, this.updates.batch(held?.record, key, online, checkedAtMs, receivedAtMs));
  }

  async getMany(keys: readonly PresenceKey[]): Promise<Array<TableEntry | undefined>> {
    return keys.map((key) => this.getNow(key));
  }

  getNow(key: PresenceKey): TableEntry | undefined {
    return this.byKey.get(key)?.entry;
  }

  async countGroup(instanceId: string, groupId: string): Promise<GroupCount> {
    assertValidGroupId(groupId);
    const group = this.groups.get(groupKey(instanceId, groupId));
    return { online: group?.online.size ?? 0, known: group?.known ?? 0 };
  }

  /** Sorted by Client ID; the cursor is the last Client ID given. */
  async listOnline(instanceId: string, groupId: string, first: number, after?: string): Promise<OnlinePage> {
    assertPageSize(first);
    assertValidGroupId(groupId);
    const last = after === undefined ? undefined : decodeCursor(after, isValidClientId);
    const group = this.groups.get(groupKey(instanceId, groupId));
    if (!group) return { clientIds: [], cursors: [], hasNextPage: false };
    const sorted = (group.sorted ??= [...group.online].sort());
    let start = 0;
    if (last !== undefined) {
      let end = sorted.length;
      while (start < end) {
        const middle = (start + end) >>> 1;
        if (sorted[middle] <= last) start = middle + 1;
        else end = middle;
      }
    }
    const clientIds = sorted.slice(start, start + first);
    const cursors = clientIds.map((clientId) => encodeCursor(clientId));
    const page: OnlinePage = { clientIds, cursors, hasNextPage: start + first < sorted.length };
    if (cursors.length > 0) page.endCursor = cursors[cursors.length - 1];
    return page;
  }

  async size(): Promise<number> {
    return this.devices.size;
  }

  /** Reads every device (at most maxDevices): meant for a verifier's periodic round. */
  async leastRecentlyVerified(limit: number, quietSinceMs: number, instanceIds?: ReadonlySet<string>): Promise<PresenceKey[]> {
    const found: HeldDevice[] = [];
    for (const held of this.devices.values()) {
      if (held.record.evidenceAtMs <= quietSinceMs && (!instanceIds || instanceIds.has(held.key.instanceId))) found.push(held);
    }
    found.sort((a, b) => a.record.evidenceAtMs - b.record.evidenceAtMs);
    return found.slice(0, limit).map((held) => held.key);
  }

  private store(key: PresenceKey, groupId: string, held: HeldDevice | undefined, update: RecordUpdate): ApplyResult {
    const { record } = update;
    if (!record) return update.result;
    const id = presenceKeyId(key);
    const device: HeldDevice = held ?? { key, group: this.groupOf(key.instanceId, groupId), record, online: false, entry: undefined };
    if (!held) {
      device.group.known++;
      this.byKey.set(key, device);
    }
    const refreshed = !held || record.evidenceAtMs !== held.record.evidenceAtMs;
    device.record = record;
    device.entry = this.updates.entry(record);
    this.setOnline(device, update.online === true);
    if (refreshed) {
      this.devices.delete(id);
      this.devices.set(id, device);
    }
    while (this.devices.size > this.maxDevices) this.forget(this.devices.keys().next().value as string);
    return update.result;
  }

  private forget(id: string): void {
    const device = this.devices.get(id) as HeldDevice;
    this.devices.delete(id);
    this.byKey.delete(device.key);
    this.setOnline(device, false);
    if (--device.group.known === 0) this.groups.delete(device.group.id);
  }

  private setOnline(device: HeldDevice, online: boolean): void {
    if (device.online === online) return;
    device.online = online;
    if (online) device.group.online.add(device.key.clientId);
    else device.group.online.delete(device.key.clientId);
    device.group.sorted = undefined;
  }

  private groupOf(instanceId: string, groupId: string): Group {
    const id = groupKey(instanceId, groupId);
    let group = this.groups.get(id);
    if (!group) this.groups.set(id, (group = { id, known: 0, online: new Set() }));
    return group;
  }
}

function groupKey(instanceId: string, groupId: string): string {
  return `${instanceId}\n${groupId}`;
}
