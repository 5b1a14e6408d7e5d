import type { Cluster, Redis } from 'ioredis';
import { assertValidInstanceId, isValidClientId, parseClientId } from '../presence/client-id';
import { assertNumberOption } from '../presence/options';
import type { PresenceKey } from '../presence/types';
import { DeviceRecordUpdates, type DeviceRecord, type PresenceTableOptions, type RecordUpdate } from '../presence/status-notices/device-record';
import { decodeDeviceRecord } from '../presence/status-notices/device-record-codec';
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
} from '../presence/status-notices/presence-table';
import type { StatusNotice } from '../presence/status-notices/status-notice';
import { COMPARE_AND_SET_MANY, COUNT, LEAST_RECENTLY_VERIFIED, LIST_ONLINE, READ_MANY } from './redis-presence-table-scripts';
import { RecordBatches, type BatchDevice } from './redis-record-batches';

export interface RedisPresenceTableOptions extends PresenceTableOptions {
  /** Prefix of every key; no braces (they would move the hash tag). @default 'presence-graph:table:' */
  keyPrefix?: string;
  /**
   * Buckets per group, fixed for the life of the data (a bucket is part of the key). Each bucket is
   * one small hash on its own slot: a group's devices spread over the cluster, and a bucket stays in
   * Redis's compact listpack encoding while it holds at most `hash-max-listpack-entries` devices (128
   * by default): 1024 buckets keep groups of up to ~130,000 devices compact. Counting a group reads
   * every bucket. @default 1024
   */
  bucketsPerGroup?: number;
}

/** How often a compare-and-set is retried when other writers keep changing the same device. */
const MAX_ATTEMPTS = 16;
/** Buckets a listing asks at once at first; each round doubles it, up to MAX_LIST_WINDOW. */
const FIRST_LIST_WINDOW = 4;
const MAX_LIST_WINDOW = 256;
/** Group registrations remembered per process before it forgets them (and registers again: SADD is idempotent). */
const MAX_REGISTERED_GROUPS = 10_000;

/** Devices one read or compare-and-set script takes at most (a script blocks Redis while it runs). */
const MAX_BATCH_DEVICES = 512;

const READ = 'presenceGraphTableReadMany';
const CAS = 'presenceGraphTableCompareAndSetMany';
/** defineCommand also makes `<name>Buffer`, answering bulk strings as Buffers (records are bytes). */
const READ_BUFFER = `${READ}Buffer` as const;
const CAS_BUFFER = `${CAS}Buffer` as const;
const COUNT_COMMAND = 'presenceGraphTableCount';
const LIST_COMMAND = 'presenceGraphTableListOnline';
const VERIFY_COMMAND = 'presenceGraphTableLeastRecentlyVerified';

type TableCommands = {
  /** numkeys, then the keys, then the arguments (defined without a fixed number of keys). */
  [READ_BUFFER](...keysThenArgs: Array<number | string>): Promise<Array<Buffer | null>>;
  [CAS_BUFFER](...keysThenArgs: Array<number | string | Buffer>): Promise<Array<1 | Buffer>>;
  [COUNT_COMMAND](key: string): Promise<[number, number]>;
  [LIST_COMMAND](key: string, after: string, limit: number): Promise<string[]>;
  [VERIFY_COMMAND](key: string, quietSinceMs: number, limit: number): Promise<string[]>;
};

/**
 * The presence table shared by every replica, on one Redis or a Redis Cluster (pass either client).
 *
 * Layout: per (instance, group, bucket) one hash `<prefix>{<instance>:<group>:<bucket>}` holding the
 * bucket's device records and its online count; bucket = FNV-1a of the Client ID modulo
 * bucketsPerGroup. The braces make the whole name the hash tag, so a device and the count and list
 * it belongs to share one slot, and every script takes that one key. A set `<prefix>groups` names
 * the groups known, for the verifier; it is written apart (its own slot) and idempotently.
 *
 * Each update reads the record, applies the channel rule in TypeScript (device-record.ts) and writes
 * with an atomic compare-and-set that also moves the online count: the rule exists once, and a
 * concurrent writer makes the compare-and-set refuse, after which the update is recomputed from the
 * record it handed back. Updates submitted together (one I/O event's worth) are read with ONE script
 * and written with ONE script per group (redis-record-batches.ts): on one Redis a group is the whole
 * batch, on a Redis Cluster the devices of one bucket, since a script's keys must share a slot.
 *
 * Evidence times are the service clock's (`receivedAtMs`, `checkedAtMs`), never Redis's TIME: the
 * caller compares them with its own clock (when its consumer reconnected).
 */
export class RedisPresenceTable implements PresenceTableStore {
  private readonly redis: (Redis | Cluster) & TableCommands;
  private readonly updates: DeviceRecordUpdates;
  private readonly keyPrefix: string;
  readonly bucketsPerGroup: number;
  /** Groups known to be in the groups set, by instance (no key string built per update to look one up). */
  private readonly registered = new Map<string, Set<string>>();
  private registeredGroups = 0;
  private readonly batches: RecordBatches;

  constructor(redis: Redis | Cluster, options: RedisPresenceTableOptions = {}) {
    this.updates = new DeviceRecordUpdates('RedisPresenceTable', options);
    this.keyPrefix = options.keyPrefix ?? 'presence-graph:table:';
    if (/[{}]/.test(this.keyPrefix)) throw new TypeError(`RedisPresenceTable: keyPrefix must not contain braces; got ${JSON.stringify(this.keyPrefix)}`);
    this.bucketsPerGroup = options.bucketsPerGroup ?? 1024;
    assertNumberOption('RedisPresenceTable', 'bucketsPerGroup', this.bucketsPerGroup, { min: 1, integer: true });
    // defineCommand sends EVALSHA, and EVAL (loading the script) only when Redis answers NOSCRIPT.
    redis.defineCommand(READ, { lua: READ_MANY });
    redis.defineCommand(CAS, { lua: COMPARE_AND_SET_MANY });
    redis.defineCommand(COUNT_COMMAND, { numberOfKeys: 1, lua: COUNT });
    redis.defineCommand(LIST_COMMAND, { numberOfKeys: 1, lua: LIST_ONLINE });
    redis.defineCommand(VERIFY_COMMAND, { numberOfKeys: 1, lua: LEAST_RECENTLY_VERIFIED });
    this.redis = redis as (Redis | Cluster) & TableCommands;
    this.batches = new RecordBatches(
      { read: (devices) => this.readMany(devices), compareAndSet: (writes) => this.compareAndSetMany(writes) },
      { groupOf: redis.isCluster ? (hashKey) => hashKey : () => '', maxDevices: MAX_BATCH_DEVICES, maxAttempts: MAX_ATTEMPTS },
    );
  }

  applyNotice(instanceId: string, notice: StatusNotice, receivedAtMs: number): Promise<ApplyResult> {
    const key = { instanceId, clientId: notice.clientId };
    return this.update(key, notice.groupId, (held) => this.updates.notice(held, key, notice, receivedAtMs));
  }

  applyBatchAnswer(key: PresenceKey, online: boolean, checkedAtMs: number, receivedAtMs: number): Promise<ApplyResult> {
    let groupId: string;
    try {
      groupId = parseClientId(key.clientId).groupId;
    } catch (error) {
      return Promise.reject(error);
    }
    return this.update(key, groupId, (held) => this.updates.batch(held, key, online, checkedAtMs, receivedAtMs));
  }

  async getMany(keys: readonly PresenceKey[]): Promise<Array<TableEntry | undefined>> {
    // One HGET per device: on a cluster the devices are on many slots, and ioredis sends them all
    // before the first answer comes back anyway.
    return Promise.all(
      keys.map(async (key) => {
        const bytes = await this.redis.hgetBuffer(this.deviceKey(key), key.clientId);
        const record = bytes && decodeDeviceRecord(bytes);
        return record ? this.updates.entry(record) : undefined;
      }),
    );
  }

  async countGroup(instanceId: string, groupId: string): Promise<GroupCount> {
    assertValidGroupId(groupId);
    const counts = await Promise.all(this.buckets().map((bucket) => this.redis[COUNT_COMMAND](this.bucketKey(instanceId, groupId, bucket))));
    let online = 0;
    let known = 0;
    for (const [bucketOnline, bucketKnown] of counts) {
      online += bucketOnline;
      known += bucketKnown;
    }
    return { online, known };
  }

  /** Sums every known group's count: a walk of every bucket, meant for a metric read now and then. */
  async size(): Promise<number> {
    let known = 0;
    for (const group of await this.redis.smembers(this.groupsKey())) {
      const [instanceId, groupId] = group.split('\n');
      known += (await this.countGroup(instanceId, groupId)).known;
    }
    return known;
  }

  /** Order: by bucket, then by Client ID; the cursor is `<bucket>:<Client ID>` of the last one given. */
  async listOnline(instanceId: string, groupId: string, first: number, after?: string): Promise<OnlinePage> {
    assertPageSize(first);
    assertValidGroupId(groupId);
    let bucket = 0;
    let from = '';
    if (after !== undefined) {
      const position = decodeCursor(after, (text) => {
        const [bucketText, clientId] = text.split(':');
        return /^\d{1,5}$/.test(bucketText) && Number(bucketText) < this.bucketsPerGroup && clientId !== undefined && isValidClientId(clientId);
      });
      const colon = position.indexOf(':');
      bucket = Number(position.slice(0, colon));
      from = position.slice(colon + 1);
    }
    // One more than asked tells whether there is a next page.
    const wanted = first + 1;
    const found: Array<[number, string]> = [];
    for (let window = FIRST_LIST_WINDOW; bucket < this.bucketsPerGroup && found.length < wanted; window = Math.min(window * 2, MAX_LIST_WINDOW)) {
      const end = Math.min(bucket + window, this.bucketsPerGroup);
      const limit = wanted - found.length;
      const asked: number[] = [];
      for (let b = bucket; b < end; b++) asked.push(b);
      const pages = await Promise.all(asked.map((b, i) => this.redis[LIST_COMMAND](this.bucketKey(instanceId, groupId, b), i === 0 ? from : '', limit)));
      pages.forEach((page, i) => page.forEach((clientId) => found.length < wanted && found.push([asked[i], clientId])));
      bucket = end;
      from = '';
    }
    const given = found.slice(0, first);
    const cursors = given.map(([inBucket, clientId]) => encodeCursor(`${inBucket}:${clientId}`));
    const page: OnlinePage = { clientIds: given.map(([, clientId]) => clientId), cursors, hasNextPage: found.length > first };
    if (cursors.length > 0) page.endCursor = cursors[cursors.length - 1];
    return page;
  }

  /** Reads every bucket of every group known (one script per bucket): meant for a verifier's periodic round. */
  async leastRecentlyVerified(limit: number, quietSinceMs: number, instanceIds?: ReadonlySet<string>): Promise<PresenceKey[]> {
    assertNumberOption('RedisPresenceTable.leastRecentlyVerified', 'limit', limit, { min: 1, integer: true });
    const found: Array<{ key: PresenceKey; atMs: number }> = [];
    for (const group of await this.redis.smembers(this.groupsKey())) {
      const [instanceId, groupId] = group.split('\n');
      if (instanceIds && !instanceIds.has(instanceId)) continue;
      const pages = await Promise.all(
        this.buckets().map((bucket) => this.redis[VERIFY_COMMAND](this.bucketKey(instanceId, groupId, bucket), Math.floor(quietSinceMs), limit)),
      );
      for (const page of pages) {
        for (let i = 0; i < page.length; i += 2) found.push({ key: { instanceId, clientId: page[i] }, atMs: Number(page[i + 1]) });
      }
      // Keep the buffer small between groups: only the `limit` oldest can be answered.
      found.sort((a, b) => a.atMs - b.atMs);
      found.length = Math.min(found.length, limit);
    }
    return found.map(({ key }) => key);
  }

  /** No async step of its own: one promise per update, the batch's (the group is registered, when new, before it resolves). */
  private update(key: PresenceKey, groupId: string, compute: (held: DeviceRecord | undefined) => RecordUpdate): Promise<ApplyResult> {
    let hashKey: string;
    try {
      hashKey = this.bucketKey(key.instanceId, groupId, bucketOf(key.clientId, this.bucketsPerGroup));
    } catch (error) {
      return Promise.reject(error);
    }
    const registered = this.registered.get(key.instanceId)?.has(groupId) === true;
    return this.batches.submit(hashKey, key.clientId, compute, registered ? undefined : () => this.register(key.instanceId, groupId));
  }

  private readMany(devices: readonly BatchDevice[]): Promise<Array<Buffer | null>> {
    return this.redis[READ_BUFFER](devices.length, ...devices.map((device) => device.hashKey), ...devices.map((device) => device.clientId));
  }

  private async compareAndSetMany(writes: ReadonlyArray<{ device: BatchDevice; expected: Buffer | null; record: Buffer }>): Promise<Array<1 | Buffer | null>> {
    const args: Array<number | string | Buffer> = [writes.length];
    for (const { device } of writes) args.push(device.hashKey);
    for (const { device, expected, record } of writes) args.push(device.clientId, expected ?? '', record);
    const answers = await this.redis[CAS_BUFFER](...args);
    return answers.map((answer) => (answer === 1 ? 1 : answer.length > 0 ? answer : null));
  }

  private async register(instanceId: string, groupId: string): Promise<void> {
    if (this.registered.get(instanceId)?.has(groupId)) return;
    await this.redis.sadd(this.groupsKey(), `${instanceId}\n${groupId}`);
    if (this.registeredGroups >= MAX_REGISTERED_GROUPS) {
      this.registered.clear();
      this.registeredGroups = 0;
    }
    let groups = this.registered.get(instanceId);
    if (!groups) this.registered.set(instanceId, (groups = new Set()));
    if (!groups.has(groupId)) this.registeredGroups++;
    groups.add(groupId);
  }

  private deviceKey(key: PresenceKey): string {
    return this.bucketKey(key.instanceId, parseClientId(key.clientId).groupId, bucketOf(key.clientId, this.bucketsPerGroup));
  }

  /** Instance and Group IDs hold no braces (both validated), so the tag is exactly what is between them. */
  bucketKey(instanceId: string, groupId: string, bucket: number): string {
    assertValidInstanceId(instanceId);
    return `${this.keyPrefix}{${instanceId}:${groupId}:${bucket}}`;
  }

  private groupsKey(): string {
    return `${this.keyPrefix}groups`;
  }

  private buckets(): number[] {
    return Array.from({ length: this.bucketsPerGroup }, (_, bucket) => bucket);
  }
}

/** FNV-1a (32-bit) of the Client ID: stable across processes and versions, since it is part of the key. */
export function bucketOf(clientId: string, buckets: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < clientId.length; i++) {
    hash ^= clientId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % buckets;
}
