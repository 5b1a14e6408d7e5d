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
  const { core, logger, metrics, local } = deps;
  const settings = config.statusNotices;
  // The local instance's notices are its own instance's; the cloud's are MQTT_INSTANCE_ID's (config/index.ts requires it).
  const instanceId = local ? local.instanceId : config.defaultInstanceId!;
  const closers: Array<() => Promise<void> | void> = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  try {
    const prefix = config.redisKeyPrefix;
    // The local instance is one per process, with its own broker: its table is its own too. Replicas
    // of the cloud (or of a shared local instance reached as `alibaba`) share theirs through Redis.
    const shared = local ? undefined : core.redis;
    let feed: PresenceChangeFeed;
    let table: PresenceTableStore;
    if (shared) {
      const redisFeed = new RedisChangeFeed(shared, prefix, logger);
      closers.push(() => redisFeed.close());
      // A change published elsewhere from now on should reach this replica's subscribers; but a Redis
      // that is down at start must not hold the start (answers go on through the dispatcher).
      await Promise.race([redisFeed.ready, new Promise((resolve) => setTimeout(resolve, FEED_READY_WAIT_MS).unref())]);
      feed = redisFeed;
      // Read through an in-process mirror that every replica's changes keep honest (see there).
      const mirror = new MirroredPresenceTable({
        shared: new RedisPresenceTable(shared, { keyPrefix: `${prefix}table:`, batchLagMs: settings.batchLagMs }),
        feed,
      });
      closers.push(() => mirror.close());
      table = mirror;
    } else {
      feed = new MemoryChangeFeed();
      table = new MemoryPresenceTable({ batchLagMs: settings.batchLagMs });
    }
    metrics.measureTable(() => table.size());
    // Replicas sharing a table share their consumers' coverage: a replica that starts while others
    // consume trusts the table at once instead of sending every device to the batch action.
    const trust = new NoticeTrust({
      maxGapMs: settings.maxGapMs,
      coverage: shared ? new RedisNoticeCoverage(shared, `${prefix}notices:coverage`) : undefined,
    });
    if (shared) {
      await trust.refreshCoverage();
      const coverageTimer = setInterval(() => void trust.refreshCoverage(), Math.max(250, settings.maxGapMs / 3));
      coverageTimer.unref();
      closers.push(() => clearInterval(coverageTimer));
    }
    const refusals = new NoticeRefusalLog(logger);
    closers.push(() => refusals.close());
    const sink = new StatusNoticeSink({
      instanceId,
      groups: settings.groups,
      table,
      feed,
      observer: metrics,
      onRefused: (reason) => refusals.record(reason),
    });

    const url = local ? config.local.noticesUrl : settings.url;
    let source: StatusNotices['source'];
    if (url) {
      const consumer = new StatusNoticeConsumer({
        url: local ? withoutUserinfo(url) : url,
        instanceId,
        // RabbitMQ ignores GROUP_ID (the cloud filters by it): locally one consume takes every group.
        groups: settings.groups.length > 0 ? settings.groups : ['GID_local'],
        // The OpenAPI calls' own credentials, asked before every login (a fresh ts, the current key).
        credentials: local
          ? async () => ({ accessKeyId: local.accessKeyId, accessKeySecret: local.accessKeySecret })
          : () => deps.credentials!.get(),
        onNotice: async (body) => ((await sink.accept(body)) === 'applied' ? 'applied' : 'ignored'),
        onConnected: (atMs) => {
          trust.connected(atMs);
          void trust.refreshCoverage();
        },
        onDisconnected: (atMs) => trust.disconnected(atMs),
        // Temporary credentials (STS, RRSA, a RAM role) expire within the hour: a new login with the
        // current ones is made before the old connection closes, so renewal leaves no gap.
        renewEveryMs: CONSUMER_RENEW_EVERY_MS,
        logger,
      });
      closers.push(() => consumer.close());
      // A new key or token (renewed ahead of its Expiration) means a new login now, make-before-break:
      // how the cloud treats a connection whose token expires is not documented, so never rely on it.
      const unsubscribe = deps.credentials?.onChange(() => {
        consumer.renew().catch((error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'status notice login with renewed credentials failed; the current connection stays'));
      });
      if (unsubscribe) closers.push(unsubscribe);
      // Not awaited: the service answers through the dispatcher until the consumer is in (trust says so).
      consumer.start().catch(() => undefined);
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

    const lookup = new NoticeBackedLookup({
      dispatcher: deps.dispatcher,
      table,
      trust,
      feed,
      observer: metrics,
      onTableError: (error) => logger.warn({ err: error }, 'presence table unreadable: answering through the batch action'),
    });
    const watch = new NoticeWatch({
      instanceId,
      feed,
      lookup,
      otherInstances: deps.otherInstances,
      refuseOtherInstance: local ? (other) => otherInstanceRefused(other, local.instanceId) : undefined,
    });
    closers.push(() => watch.close());

    const maxCallMs = config.upstream.connectTimeoutMs + config.upstream.readTimeoutMs;
    const budgets = batchShareBudgets(core.budgetStore, {
      name: 'verifier',
      batchQps: config.presence.batchQps,
      share: settings.verifyShare,
      maxCallMs,
      slowdownMs: config.presence.throttleSlowdownMs,
    });
    const verifier = new TableVerifier({
      api: deps.api,
      table,
      feed,
      share: new BudgetShare(budgets.accountBudget, budgets.shareBudget, { onError: deps.onVerifyError }),
      callsPerRound: budgets.shareBudget.limitPerSecond,
      batchLagMs: settings.batchLagMs,
      minAgeMs: settings.verifyMinAgeMs,
      observer: metrics,
      noticeObserver: metrics,
      onError: deps.onVerifyError,
    });
    verifier.start();
    closers.push(() => verifier.close());

    return { lookup, watch, groups: new GroupPresence(table, trust), source, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** The set-up user in LOCAL_STATUS_NOTICES_URL is the publisher's; the consumer logs in signed, like the cloud's. */
function withoutUserinfo(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}
