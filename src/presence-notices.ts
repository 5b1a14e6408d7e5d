/**
 * The composition root of the status notices (status-notices.md): the presence table, the source of
 * its notices (the cloud's STATUS queue over AMQP, the local instance's broker through a real AMQP
 * broker, or in-process), the trust in it, its verifier, and what the service reads from it: answers
 * (`online` from EVENTS), pushed subscriptions, and group lists and counts. One per process.
 */
import type { AppConfig } from './config';
import type { Logger } from './common/logger';
import { otherInstanceRefused } from './local/live-sessions-watch';
import type { LocalInstance } from './local/local-instance';
import type { PresenceCore } from './presence-core';
import { batchShareBudgets, BudgetShare } from './presence/budget-share';
import type { PresenceError } from './presence/errors';
import type { PresenceWatch } from './presence/presence-watch';
import type { SessionApi } from './presence/session-api';
import { GroupPresence } from './presence/status-notices/group-presence';
import { MemoryPresenceTable } from './presence/status-notices/memory-presence-table';
import { MirroredPresenceTable } from './presence/status-notices/mirrored-presence-table';
import { NoticeBackedLookup } from './presence/status-notices/notice-backed-lookup';
import { NoticeTrust } from './presence/status-notices/notice-trust';
import { NoticeWatch } from './presence/status-notices/notice-watch';
import { MemoryChangeFeed, type PresenceChangeFeed } from './presence/status-notices/presence-change-feed';
import type { PresenceTableStore } from './presence/status-notices/presence-table';
import { StatusNoticeSink } from './presence/status-notices/status-notice-sink';
import { TableVerifier } from './presence/status-notices/table-verifier';
import type { PresenceLookup } from './presence/types';
import { RedisChangeFeed } from './redis/redis-change-feed';
import { RedisNoticeCoverage } from './redis/redis-notice-coverage';
import { RedisPresenceTable } from './redis/redis-presence-table';
import type { PresenceMetrics } from './server/observability/metrics';
import { NoticeRefusalLog } from './server/observability/notice-refusal-log';
import type { RenewingCredentials } from './upstream/credentials/renewing-credentials';
import type { AccessKeyCredential } from './config/upstream';
import type { BudgetStore } from './presence/budget';
import { StatusNoticeConsumer } from './upstream/status-notices/status-notice-consumer';

/** How often the consumer logs in anew (make-before-break), well inside an STS token's lifetime. */
const CONSUMER_RENEW_EVERY_MS = 15 * 60_000;

/** How long the start waits for the change feed's subscription before going on without it. */
const FEED_READY_WAIT_MS = 2000;

export interface StatusNotices {
  /** `online` from the table where it decides, through the dispatcher otherwise. */
  lookup: PresenceLookup;
  /** presenceChanged, pushed from the table's changes. */
  watch: PresenceWatch;
  groups: GroupPresence;
  /** Where the notices come from, for the start log. */
  source: 'in-process' | 'amqp';
  close(): Promise<void>;
}

export interface StatusNoticeDependencies {
  core: PresenceCore;
  dispatcher: PresenceLookup;
  api: SessionApi;
  local?: LocalInstance;
  metrics: PresenceMetrics;
  logger: Logger;
  /** Alibaba Cloud: the source's credentials, shared with the OpenAPI calls (the local instance has its own key). */
  credentials?: RenewingCredentials;
  /** Keys of instances whose notices are not consumed (Alibaba Cloud: the poller). */
  otherInstances?: PresenceWatch;
  onVerifyError?: (error: PresenceError) => void;
}

export async function startStatusNotices(config: Readonly<AppConfig>, deps: StatusNoticeDependencies): Promise<StatusNotices> {
  const { core, logger, local } = deps;
  const settings = config.statusNotices;
  // The local instance's notices are its own instance's; the cloud's are MQTT_INSTANCE_ID's (config/index.ts requires it).
  const instanceId = local ? local.instanceId : config.defaultInstanceId!;
  const closers: Closers = [];
  try {
    // The local instance is one per process, with its own broker: its table is its own too. Replicas
    // of the cloud (or of a shared local instance reached as `alibaba`) share theirs through Redis.
    const { table, feed } = await openNoticeTable(config, deps, !local, closers);
    const trust = await noticeTrust(config, local ? undefined : core, `${config.redisKeyPrefix}notices:coverage`, closers);
    const sink = noticeSink(instanceId, settings.groups, table, feed, deps, closers);

    const url = local ? config.local.noticesUrl : settings.url;
    let source: StatusNotices['source'];
    if (url) {
      startNoticeConsumer(
        {
          url: local ? withoutUserinfo(url) : url,
          instanceId,
          // RabbitMQ ignores GROUP_ID (the cloud filters by it): locally one consume takes every group.
          groups: settings.groups.length > 0 ? settings.groups : ['GID_local'],
          // The OpenAPI calls' own credentials, asked before every login (a fresh ts, the current key).
          credentials: local ? async () => ({ accessKeyId: local.accessKeyId, accessKeySecret: local.accessKeySecret }) : () => deps.credentials!.get(),
          renewed: deps.credentials,
        },
        { sink, trust, logger },
        closers,
      );
      source = 'amqp';
    } else {
      // In-process: nothing can be missed while the process lives, so trust starts now; the replay
      // tells the table about the devices (the demo devices) connected before this subscription.
      trust.connected();
      const unsubscribe = local!.notices.subscribe(
        (body) => void sink.accept(body).catch((error: unknown) => logger.warn({ err: error }, 'status notice could not be applied')),
        { replayOpenChannels: true },
      );
      closers.push(unsubscribe);
      source = 'in-process';
    }

    const lookup = noticeLookup(deps.dispatcher, table, trust, feed, deps);
    const watch = new NoticeWatch({
      instanceId,
      feed,
      lookup,
      otherInstances: deps.otherInstances,
      refuseOtherInstance: local ? (other) => otherInstanceRefused(other, local.instanceId) : undefined,
    });
    closers.push(() => watch.close());
    startTableVerifier(config, { api: deps.api, budgetStore: core.budgetStore, batchQps: config.presence.batchQps, table, feed }, deps, closers);
    return { lookup, watch, groups: new GroupPresence(table, trust), source, close: () => closeAll(closers) };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

/** What a composition closes when it stops (or fails to start), in reverse order. */
export type Closers = Array<() => Promise<void> | void>;

export async function closeAll(closers: Closers): Promise<void> {
  for (const close of closers.splice(0).reverse()) await close();
}

/** The presence table and its change feed: in memory, or shared by the replicas through Redis (`shared` and REDIS_URL). */
export async function openNoticeTable(
  config: Readonly<AppConfig>,
  deps: Pick<StatusNoticeDependencies, 'core' | 'metrics' | 'logger'>,
  shareable: boolean,
  closers: Closers,
): Promise<{ table: PresenceTableStore; feed: PresenceChangeFeed }> {
  const prefix = config.redisKeyPrefix;
  const shared = shareable ? deps.core.redis : undefined;
  let feed: PresenceChangeFeed;
  let table: PresenceTableStore;
  if (shared) {
    const redisFeed = new RedisChangeFeed(shared, prefix, deps.logger);
    closers.push(() => redisFeed.close());
    // A change published elsewhere from now on should reach this replica's subscribers; but a Redis
    // that is down at start must not hold the start (answers go on through the dispatcher).
    await Promise.race([redisFeed.ready, new Promise((resolve) => setTimeout(resolve, FEED_READY_WAIT_MS).unref())]);
    feed = redisFeed;
    // Read through an in-process mirror that every replica's changes keep honest (see there).
    const mirror = new MirroredPresenceTable({
      shared: new RedisPresenceTable(shared, { keyPrefix: `${prefix}table:`, batchLagMs: config.statusNotices.batchLagMs }),
      feed,
    });
    closers.push(() => mirror.close());
    table = mirror;
  } else {
    feed = new MemoryChangeFeed();
    table = new MemoryPresenceTable({ batchLagMs: config.statusNotices.batchLagMs });
  }
  deps.metrics.measureTable(() => table.size());
  return { table, feed };
}

/**
 * Since when one consumer's notices are trusted. Replicas sharing a table (`core` with Redis) share
 * their consumers' coverage under `coverageKey`: a replica that starts while others consume trusts
 * the table at once instead of sending every device to the batch action.
 */
export async function noticeTrust(config: Readonly<AppConfig>, core: PresenceCore | undefined, coverageKey: string, closers: Closers): Promise<NoticeTrust> {
  const { maxGapMs } = config.statusNotices;
  const shared = core?.redis;
  const trust = new NoticeTrust({ maxGapMs, coverage: shared ? new RedisNoticeCoverage(shared, coverageKey) : undefined });
  if (shared) {
    await trust.refreshCoverage();
    const coverageTimer = setInterval(() => void trust.refreshCoverage(), Math.max(250, maxGapMs / 3));
    coverageTimer.unref();
    closers.push(() => clearInterval(coverageTimer));
  }
  return trust;
}

/** Applies one instance's notices of `groups` to its rows of the table. */
export function noticeSink(
  instanceId: string,
  groups: readonly string[],
  table: PresenceTableStore,
  feed: PresenceChangeFeed,
  deps: Pick<StatusNoticeDependencies, 'metrics' | 'logger'>,
  closers: Closers,
): StatusNoticeSink {
  const refusals = new NoticeRefusalLog(deps.logger);
  closers.push(() => refusals.close());
  return new StatusNoticeSink({ instanceId, groups, table, feed, observer: deps.metrics, onRefused: (reason) => refusals.record(reason) });
}

export interface NoticeSource {
  /** The instance's AMQP endpoint, without userinfo. */
  url: string;
  instanceId: string;
  groups: readonly string[];
  /** @default 'STATUS' */
  queue?: string;
  /** Asked before every login. */
  credentials: () => Promise<AccessKeyCredential>;
  /** The account's renewing credentials: a renewed key means a new login now. */
  renewed?: RenewingCredentials;
}

/** One instance's consumer, signed with its account's credentials; not awaited (trust says when it consumes). */
export function startNoticeConsumer(source: NoticeSource, into: { sink: StatusNoticeSink; trust: NoticeTrust; logger: Logger }, closers: Closers): StatusNoticeConsumer {
  const { sink, trust, logger } = into;
  const consumer = new StatusNoticeConsumer({
    url: source.url,
    instanceId: source.instanceId,
    groups: source.groups,
    ...(source.queue && { queue: source.queue }),
    credentials: source.credentials,
    onNotice: async (body) => ((await sink.accept(body)) === 'applied' ? 'applied' : 'ignored'),
    onConnected: (atMs) => {
      trust.connected(atMs);
      void trust.refreshCoverage();
    },
    onDisconnected: (atMs) => trust.disconnected(atMs),
    // Temporary credentials (STS, RRSA, a RAM role) expire within the hour: a new login with the
    // current ones is made before the old connection closes, so renewal leaves no gap.
    renewEveryMs: CONSUMER_RENEW_EVERY_MS,
    logger: logger.child({ instanceId: source.instanceId }),
  });
  closers.push(() => consumer.close());
  // A new key or token (renewed ahead of its Expiration) means a new login now, make-before-break:
  // how the cloud treats a connection whose token expires is not documented, so never rely on it.
  const unsubscribe = source.renewed?.onChange(() => {
    consumer.renew().catch((error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'status notice login with renewed credentials failed; the current connection stays'));
  });
  if (unsubscribe) closers.push(unsubscribe);
  // Not awaited: the service answers through the dispatcher until the consumer is in (trust says so).
  consumer.start().catch(() => undefined);
  return consumer;
}

/** `online` from the table where `trust` says it decides, through `dispatcher` otherwise. */
export function noticeLookup(dispatcher: PresenceLookup, table: PresenceTableStore, trust: NoticeTrust, feed: PresenceChangeFeed, deps: Pick<StatusNoticeDependencies, 'metrics' | 'logger'>): NoticeBackedLookup {
  return new NoticeBackedLookup({
    dispatcher,
    table,
    trust,
    feed,
    observer: deps.metrics,
    onTableError: (error) => deps.logger.warn({ err: error }, 'presence table unreadable: answering through the batch action'),
  });
}

/** Re-checks the table within its share (STATUS_NOTICES_VERIFY_SHARE) of one account's batch budget. */
export function startTableVerifier(
  config: Readonly<AppConfig>,
  target: { api: SessionApi; budgetStore: BudgetStore; batchQps: number; table: PresenceTableStore; feed: PresenceChangeFeed; name?: string },
  deps: Pick<StatusNoticeDependencies, 'metrics' | 'onVerifyError'>,
  closers: Closers,
): void {
  const budgets = batchShareBudgets(target.budgetStore, {
    name: target.name ?? 'verifier',
    batchQps: target.batchQps,
    share: config.statusNotices.verifyShare,
    maxCallMs: config.upstream.connectTimeoutMs + config.upstream.readTimeoutMs,
    slowdownMs: config.presence.throttleSlowdownMs,
  });
  const verifier = new TableVerifier({
    api: target.api,
    table: target.table,
    feed: target.feed,
    share: new BudgetShare(budgets.accountBudget, budgets.shareBudget, { onError: deps.onVerifyError }),
    callsPerRound: budgets.shareBudget.limitPerSecond,
    batchLagMs: config.statusNotices.batchLagMs,
    minAgeMs: config.statusNotices.verifyMinAgeMs,
    observer: deps.metrics,
    noticeObserver: deps.metrics,
    onError: deps.onVerifyError,
  });
  verifier.start();
  closers.push(() => verifier.close());
}

/** The set-up user in LOCAL_STATUS_NOTICES_URL is the publisher's; the consumer logs in signed, like the cloud's. */
function withoutUserinfo(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}
