/**
 * The status notices of a deployment with several instances (INSTANCES_FILE, docs/instances.md): one
 * consumer per instance carrying `statusNotices`, each logging in with its instance ID and its
 * account's credentials, each applying its notices to its own instance's rows of the one presence
 * table (keyed by instance and Client ID), each with its own trust (and, with Redis, its own shared
 * coverage): one instance's broker away never makes another's rows untrusted. Devices of instances
 * without `statusNotices` keep the batch path and the per-account pollers. One per process.
 */
import type { AppConfig } from './config';
import { PresenceRouter } from './presence/presence-router';
import type { PresenceWatch } from './presence/presence-watch';
import { RoutedWatch } from './presence/routed-watch';
import { GroupPresence } from './presence/status-notices/group-presence';
import type { NoticeTrust } from './presence/status-notices/notice-trust';
import { NoticeWatch } from './presence/status-notices/notice-watch';
import type { PresenceTableStore } from './presence/status-notices/presence-table';
import type { PresenceLookup } from './presence/types';
import { InvalidInputError } from './presence/errors';
import {
  closeAll,
  noticeLookup,
  noticeSink,
  noticeTrust,
  openNoticeTable,
  startNoticeConsumer,
  startTableVerifier,
  type Closers,
  type StatusNoticeDependencies,
  type StatusNotices,
} from './presence-notices';
import type { InstanceRoutes } from './upstream/instance-routes';

export interface InstanceNoticeDependencies extends Omit<StatusNoticeDependencies, 'local' | 'credentials'> {
  routes: InstanceRoutes;
  /** The per-account pollers: every instance without `statusNotices`. */
  otherInstances: PresenceWatch;
}

export async function startInstanceNotices(config: Readonly<AppConfig>, deps: InstanceNoticeDependencies): Promise<StatusNotices> {
  const { core, routes, logger } = deps;
  const catalogue = config.instances!;
  const closers: Closers = [];
  try {
    const { table, feed } = await openNoticeTable(config, deps, true, closers);
    const trusts = new Map<string, NoticeTrust>();
    const lookups = new Map<string, PresenceLookup>();
    const watches = new Map<string, PresenceWatch>();
    const noticedByAccount = new Map<string, Set<string>>();
    for (const instance of Object.values(catalogue.instances)) {
      const notices = instance.statusNotices;
      if (!notices) continue;
      const { instanceId, account } = instance;
      const held = routes.credentials.get(account)!;
      // Each instance its own coverage key: replicas consuming instance A say nothing about B's rows.
      const trust = await noticeTrust(config, core, `${config.redisKeyPrefix}notices:coverage:${instanceId}`, closers);
      const sink = noticeSink(instanceId, notices.groups, table, feed, deps, closers);
      startNoticeConsumer(
        { url: notices.url, instanceId, groups: notices.groups, queue: notices.queue, credentials: () => held.get(), renewed: held },
        { sink, trust, logger },
        closers,
      );
      const lookup = noticeLookup(deps.dispatcher, table, trust, feed, deps);
      const watch = new NoticeWatch({ instanceId, feed, lookup });
      closers.push(() => watch.close());
      trusts.set(instanceId, trust);
      lookups.set(instanceId, lookup);
      watches.set(instanceId, watch);
      if (!noticedByAccount.has(account)) noticedByAccount.set(account, new Set());
      noticedByAccount.get(account)!.add(instanceId);
    }
    // One verifier per account, over that account's rows, within that account's budget.
    for (const [account, instanceIds] of noticedByAccount) {
      startTableVerifier(
        config,
        {
          name: `verifier ${account}`,
          api: routes.api,
          budgetStore: core.accountBudgetStores!.get(account)!,
          batchQps: catalogue.accounts[account].batchQps,
          table: rowsOf(table, instanceIds),
          feed,
        },
        deps,
        closers,
      );
    }
    // Keys of other instances go to the dispatcher (which refuses an instance not in the catalogue).
    const lookup = new PresenceRouter((instanceId) => lookups.get(instanceId) ?? deps.dispatcher);
    const watch = new RoutedWatch(
      (instanceId) => watches.get(instanceId) ?? deps.otherInstances,
      [...watches.values()],
      (instanceId) => new InvalidInputError(`Instance ${JSON.stringify(instanceId)} is not in INSTANCES_FILE ${catalogue.file}`),
    );
    return { lookup, watch, groups: new GroupPresence(table, (instanceId) => trusts.get(instanceId)), source: 'amqp', close: () => closeAll(closers) };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

/**
 * The table as one account's verifier sees it: only that account's instances' rows are listed for a
 * check (the table picks the least recently verified among them), so each account's verifier spends
 * its own budget on its own devices, whatever the other accounts' rows are.
 */
function rowsOf(table: PresenceTableStore, instanceIds: ReadonlySet<string>): PresenceTableStore {
  const leastRecentlyVerified: PresenceTableStore['leastRecentlyVerified'] = (limit, quietSinceMs) => table.leastRecentlyVerified(limit, quietSinceMs, instanceIds);
  return new Proxy(table, {
    get(target, property) {
      if (property === 'leastRecentlyVerified') return leastRecentlyVerified;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
