import { isValidClientId } from '../client-id';
import { InvalidInputError } from '../errors';
import type { PresenceKey } from '../types';
import type { StatusNotice } from './status-notice';

/**
 * The presence table: per device, what status notices (and batch answers) say, kept so that any
 * order of at-least-once notices gives one status (channel-rule.ts). Implemented in memory
 * (memory-presence-table.ts, one replica) and on Redis or Redis Cluster (redis/redis-presence-table.ts,
 * shared by every replica). Lives as long as the process; the Redis one as long as Redis keeps it.
 */

/** One device as the table knows it. */
export interface TableEntry {
  online: boolean;
  /** The notice time (or batch `checkedAt`) that decided the current status. */
  decidedAtMs: number;
  decidedBy: 'notice' | 'batch';
  /**
   * Service clock (never the broker's, never Redis's) when a notice last changed what the table knows
   * of the device (its `receivedAtMs`), or when a batch answer that agrees with the table was asked
   * (its `checkedAtMs`). The caller compares it with when the notices consumer last (re)connected:
   * an entry with no evidence since then may have missed notices during the gap.
   */
  evidenceAtMs: number;
}

/** The device's status flipped (an unknown device counts as offline). */
export interface PresenceChange {
  key: PresenceKey;
  online: boolean;
  /** `decidedAtMs` of the new status. */
  atMs: number;
}

export interface ApplyResult {
  /**
   * `applied`: the table learned something. `duplicate`: nothing changed, not even the evidence (a
   * redelivery, a notice of a forgotten channel, an older batch answer). `rejected`: refused, with
   * `reason` (a notice stamped too far ahead of the service clock: kept, it would outweigh every
   * later notice of the device).
   */
  outcome: 'applied' | 'duplicate' | 'rejected';
  change?: PresenceChange;
  reason?: string;
}

export interface GroupCount {
  online: number;
  known: number;
}

export interface OnlinePage {
  clientIds: string[];
  /** Parallel to `clientIds`: each one's position, to resume right after it (a Relay edge's cursor). */
  cursors: string[];
  /** Opaque; pass as `after` for the next page. Absent when the page is empty. */
  endCursor?: string;
  hasNextPage: boolean;
}

/** The most Client IDs one `listOnline` page may hold. */
export const MAX_ONLINE_PAGE = 1000;

export interface PresenceTableStore {
  /** Joins one parsed notice in, atomically per device; `receivedAtMs` is the service clock when it came. */
  applyNotice(instanceId: string, notice: StatusNotice, receivedAtMs: number): Promise<ApplyResult>;
  /**
   * Joins a BatchQuerySessionByClientIds answer in (it seeds or corrects the table; channel-rule.ts says
   * how it is weighed against notices, with the store's `batchLagMs`). `checkedAtMs`: when it was asked.
   */
  applyBatchAnswer(key: PresenceKey, online: boolean, checkedAtMs: number, receivedAtMs: number): Promise<ApplyResult>;
  /** Parallel to `keys`; undefined for a device the table knows nothing of. */
  getMany(keys: readonly PresenceKey[]): Promise<Array<TableEntry | undefined>>;
  /** At once, for a table in this process (memory); a shared one has none. */
  getNow?(key: PresenceKey): TableEntry | undefined;
  countGroup(instanceId: string, groupId: string): Promise<GroupCount>;
  /**
   * One page of the group's online Client IDs in a stable order: every device online throughout the
   * walk is listed exactly once. `first`: 1..MAX_ONLINE_PAGE. `after`: an `endCursor` of this store
   * (anything else is an InvalidInputError).
   */
  listOnline(instanceId: string, groupId: string, first: number, after?: string): Promise<OnlinePage>;
  /**
   * Up to `limit` devices to re-check with the batch action, oldest evidence first, among those with
   * no evidence after `quietSinceMs` (no notice applied and no agreeing batch answer since then);
   * only devices of `instanceIds` when given (one account's verifier checks its own instances).
   */
  leastRecentlyVerified(limit: number, quietSinceMs: number, instanceIds?: ReadonlySet<string>): Promise<PresenceKey[]>;
  /** Devices the table knows, for the `presence_table_devices` gauge (a walk of every group on Redis). */
  size(): Promise<number>;
}

/** Throws an InvalidInputError naming `first` unless it is a whole number in 1..MAX_ONLINE_PAGE. */
export function assertPageSize(first: number): void {
  if (!Number.isInteger(first) || first < 1 || first > MAX_ONLINE_PAGE) {
    throw new InvalidInputError(`first must be a whole number from 1 to ${MAX_ONLINE_PAGE}; got ${String(first).slice(0, 20)}`);
  }
}

/** Throws an InvalidInputError unless `groupId` is a Group ID by client-id.ts's rules (checked as the group of a Client ID). */
export function assertValidGroupId(groupId: string): void {
  if (groupId.includes('@') || !isValidClientId(`${groupId}@@@0`)) {
    throw new InvalidInputError(`Group ID ${JSON.stringify(groupId.slice(0, 70))} is not valid: GID_ or GID- and 3 to 60 letters, digits, '-' or '_'`);
  }
}

/** Opaque cursors: base64url of the store's own position text. */
export function encodeCursor(position: string): string {
  return Buffer.from(position, 'utf8').toString('base64url');
}

/** The position text of a cursor, or an InvalidInputError when `test` refuses it. */
export function decodeCursor(cursor: string, test: (position: string) => boolean): string {
  const position = cursor.length <= 200 ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!test(position)) throw new InvalidInputError('after is not a cursor of this list');
  return position;
}
