import { ForbiddenError, StatusNoticesOffError } from '../errors';
import type { PresenceStatus } from '../types';
import { statusOf } from './notice-backed-lookup';
import type { NoticeTrust } from './notice-trust';
import { assertPageSize, assertValidGroupId, type OnlinePage, type PresenceTableStore } from './presence-table';

export interface GroupSummary {
  /** Devices of the group the table holds online. */
  online: number;
  /** Devices of the group the table has seen at all (a notice or a batch answer). */
  known: number;
  /** False while start-up or a consumer gap leaves some device's status unconfirmed (notice-trust.ts). */
  complete: boolean;
}

/**
 * Which devices of a group are online, and how many: questions the batch action cannot answer (it
 * needs the IDs), answered from the presence table with no upstream call. One per process.
 */
export class GroupPresence {
  private readonly trustOf: (instanceId: string) => NoticeTrust | undefined;

  /**
   * `trust`: the consumer's, or with several instances (INSTANCES_FILE) each instance's; an instance
   * whose notices nobody consumes has none, and its groups are refused (STATUS_NOTICES_OFF) rather
   * than read as empty: the table can only hold what its batch answers seeded, never the whole group.
   */
  constructor(
    private readonly table: PresenceTableStore,
    trust: NoticeTrust | ((instanceId: string) => NoticeTrust | undefined),
  ) {
    this.trustOf = typeof trust === 'function' ? trust : () => trust;
  }

  async summary(instanceId: string, groupId: string): Promise<GroupSummary> {
    assertValidGroupId(groupId);
    const trust = this.noticedTrust(instanceId);
    const [count, complete] = await Promise.all([this.table.countGroup(instanceId, groupId), this.complete(trust)]);
    return { ...count, complete };
  }

  /**
   * One page of the group's online devices, with each one's status as the table holds it (undefined
   * where it is not trusted: its `online` is then asked as any other device's), so the page's devices
   * answer `online` without a lookup of their own.
   */
  async onlinePage(instanceId: string, groupId: string, first: number, after?: string): Promise<OnlinePage & { totalCount: number; statuses: Array<PresenceStatus | undefined> }> {
    assertValidGroupId(groupId);
    assertPageSize(first);
    const trust = this.noticedTrust(instanceId);
    const [page, count] = await Promise.all([this.table.listOnline(instanceId, groupId, first, after), this.table.countGroup(instanceId, groupId)]);
    const entries = page.clientIds.length > 0 ? await this.table.getMany(page.clientIds.map((clientId) => ({ instanceId, clientId }))) : [];
    const statuses = entries.map((entry) => (entry && trust.trusts(entry.evidenceAtMs) ? statusOf(entry) : undefined));
    return { ...page, totalCount: count.online, statuses };
  }

  private noticedTrust(instanceId: string): NoticeTrust {
    const trust = this.trustOf(instanceId);
    if (trust === undefined) {
      throw new StatusNoticesOffError(
        `Which devices of a group are online is known only from the client status notices, and instance ${JSON.stringify(instanceId)} has none configured (statusNotices in INSTANCES_FILE)`,
      );
    }
    return trust;
  }

  /**
   * Complete once the consumer is consuming and every device the table knows has evidence since trust
   * began: the verifier and fresh notices get there. Judged over the whole table, not per group, which
   * errs on the side of saying "unsure".
   */
  private async complete(trust: NoticeTrust): Promise<boolean> {
    const since = trust.trustedSinceMs();
    if (since === undefined || !trust.consuming) return false;
    const unconfirmed = await this.table.leastRecentlyVerified(1, since - 1);
    return unconfirmed.length === 0;
  }
}

/** Refuses a group outside the caller's scope before anything is read. */
export function assertGroupAllowed(allowed: boolean, instanceId: string, groupId: string): void {
  if (!allowed) throw new ForbiddenError(`Group ${JSON.stringify(groupId)} of instance ${JSON.stringify(instanceId)} is outside this caller's scope`);
}
