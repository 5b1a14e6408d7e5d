/**
 * The composition root: which presence source, which stores, which server. `main.ts` calls it with
 * the environment's config; integration tests call it with plain config objects, so they exercise
 * the same wiring users run.
 */
import type { AppConfig } from './config';
import { LiveSessionsWatch } from './local/live-sessions-watch';
import { startLocalInstance, type LocalInstance } from './local/local-instance';
import { createPresencePoller } from './presence/presence-poller';
import type { PresenceWatch } from './presence/presence-watch';
import type { PresenceError } from './presence/errors';
import type { SessionApi } from './presence/session-api';
import { createPresenceCore, type PresenceCore } from './presence-core';
import { startStatusNotices, type StatusNotices } from './presence-notices';
import { startInstanceNotices } from './presence-instance-notices';
import type { Logger } from './common/logger';
import { PresenceMetrics } from './server/observability/metrics';
import { createPresenceService } from './server/presence-service';
import { createAlibabaSessionApi } from './upstream/alibaba-session-api';
import type { RenewingCredentials } from './upstream/credentials/renewing-credentials';
import { resolveCredentials } from './upstream/credentials/resolve-credentials';
import { createInstanceRoutes, type InstanceRoutes } from './upstream/instance-routes';
import { InvalidInputError } from './presence/errors';
import { RoutedWatch } from './presence/routed-watch';
import type { ReadinessCheck } from './server/http/http-app';
import { assertCanListen, GRAPHQL_LISTENER, OPS_LISTENER } from './server/http/listener';

export interface RunningPresenceGraph {
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql. */
  url: string;
  /** Where /healthz, /readyz and /metrics answer, e.g. http://localhost:9464 (OPS_PORT), or the GraphQL port's base. */
  opsUrl: string;
  /** The embedded local instance, when PRESENCE_SOURCE=local. */
  local?: LocalInstance;
  core: PresenceCore;
  metrics: PresenceMetrics;
  stop(): Promise<void>;
}

export async function startPresenceGraph(config: Readonly<AppConfig>, logger: Logger): Promise<RunningPresenceGraph> {
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  // A taken PORT or OPS_PORT stops the start here, naming the setting, before half the system runs.
  await assertCanListen(config.port, config.host, GRAPHQL_LISTENER);
  if (config.web.ops) await assertCanListen(config.web.ops.port, config.web.ops.host, OPS_LISTENER);
  try {
    let local: LocalInstance | undefined;
    let api: SessionApi;
    let upstreamEndpoint: string;
    let credentials: RenewingCredentials | undefined;
    let instanceRoutes: InstanceRoutes | undefined;
    if (config.source === 'local') {
      local = await startLocalInstance(config.local, logger);
      cleanups.push(() => local!.stop());
      // The ordinary upstream client, pointed at the emulator: the production code path runs every day.
      upstreamEndpoint = local.endpoint;
      api = createAlibabaSessionApi({
        endpoint: local.endpoint,
        connectTimeoutMs: config.upstream.connectTimeoutMs,
        readTimeoutMs: config.upstream.readTimeoutMs,
        credential: { accessKeyId: local.accessKeyId, accessKeySecret: local.accessKeySecret },
      });
    } else if (config.instances) {
      // INSTANCES_FILE: every account's source must answer before anything else starts, as the single one's must.
      const routed = (instanceRoutes = await createInstanceRoutes(config.instances, config.upstream));
      cleanups.push(async () => routed.close());
      upstreamEndpoint = [...new Set(routed.routes.map((route) => route.endpoint))].join(', ');
      api = routed.api;
    } else {
      // The source is picked (and must answer) before anything else starts: credentials/resolve-credentials.ts.
      const resolved = (credentials = await resolveCredentials(config.upstream.credentials, config.upstream));
      cleanups.push(async () => resolved.close());
      const { endpoint, regionId, connectTimeoutMs, readTimeoutMs } = config.upstream;
      const alibaba = createAlibabaSessionApi({ endpoint, regionId, connectTimeoutMs, readTimeoutMs, credentials });
      upstreamEndpoint = alibaba.endpoint;
      api = alibaba;
    }

    const metrics = new PresenceMetrics();
    const core = await createPresenceCore(config, api, metrics, logger, instanceRoutes?.routes);
    cleanups.push(() => core.close());
    if (credentials) core.readiness.push(credentialsReadiness(credentials));
    for (const [account, held] of instanceRoutes?.credentials ?? []) core.readiness.push(credentialsReadiness(held, `credentials ${account}`));
    // Subscriptions without notices: the local broker pushes changes; Alibaba Cloud is polled by one
    // shared poller (which also watches instances whose notices are not consumed); with INSTANCES_FILE,
    // by one poller per account, each within its own account's budget.
    const polled = local
      ? undefined
      : instanceRoutes
        ? accountPollers(config, instanceRoutes, core, metrics, logger)
        : createPresencePoller(config, { api, budgetStore: core.budgetStore, observer: metrics, onError: pollFailureLog(logger) });
    if (polled) cleanups.push(async () => polled.close());
    let notices: StatusNotices | undefined;
    if (config.statusNotices.enabled && instanceRoutes) {
      notices = await startInstanceNotices(config, {
        core,
        dispatcher: core.lookup,
        api,
        metrics,
        logger,
        routes: instanceRoutes,
        otherInstances: polled!,
        onVerifyError: pollFailureLog(logger, 60_000, 'presence table verification failed'),
      });
      cleanups.push(() => notices!.close());
    } else if (config.statusNotices.enabled) {
      notices = await startStatusNotices(config, {
        core,
        dispatcher: core.lookup,
        api,
        local,
        metrics,
        logger,
        credentials,
        otherInstances: polled,
        onVerifyError: pollFailureLog(logger, 60_000, 'presence table verification failed'),
      });
      cleanups.push(() => notices!.close());
    }
    const watch: PresenceWatch = notices?.watch ?? polled ?? new LiveSessionsWatch(local!.sessions, local!.instanceId);
    if (!notices && local) cleanups.push(async () => watch.close());
    const service = await createPresenceService({
      config,
      lookup: notices?.lookup ?? core.lookup,
      metrics,
      logger,
      readiness: core.readiness,
      watch,
      groups: notices?.groups,
      apqCache: core.apqCache,
    });
    cleanups.push(() => service.stop());
    const url = await service.listen();
    logger.info(
      {
        url,
        opsUrl: service.opsUrl,
        source: config.source,
        defaultInstanceId: config.defaultInstanceId,
        // Where upstream calls go: error messages, which callers see, leave it out (upstream-errors.ts).
        upstreamEndpoint,
        // Which source signs the calls and the AMQP login, and where it asks: never a key or a token.
        ...(credentials && { credentials: { source: credentials.source, from: credentials.fetcher.describe } }),
        ...(instanceRoutes && { instancesFile: config.instances!.file, routes: routesForLog(config, instanceRoutes) }),
        statusNotices: notices ? notices.source : 'off',
        ...(local && { mqttUrl: local.mqttUrl, openApiEndpoint: local.endpoint, demoDevices: local.demoDevices }),
      },
      `Presence Graph ready at ${url}`,
    );
    return { url, opsUrl: service.opsUrl!, local, core, metrics, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * /readyz: ready while the source's credentials are valid (a held key still inside its validity
 * counts, even while its renewal fails), naming the source as the start log does; otherwise the
 * failure names it. Never the secret. Asking is also how a source without expiry (a profile) is
 * retried after a failure.
 */
function credentialsReadiness(credentials: RenewingCredentials, name = 'credentials'): ReadinessCheck {
  return {
    name,
    check: async () => {
      await credentials.get();
      return `${credentials.source}: ${credentials.fetcher.describe}`;
    },
  };
}

/** INSTANCES_FILE: one poller per account on that account's budget store, behind one watch routing by instance. */
function accountPollers(config: Readonly<AppConfig>, routed: InstanceRoutes, core: PresenceCore, metrics: PresenceMetrics, logger: Logger): PresenceWatch {
  const pollers = new Map<string, PresenceWatch>();
  for (const { account } of routed.routes) {
    if (pollers.has(account.name)) continue;
    const accountConfig = { ...config, presence: { ...config.presence, batchQps: account.batchQps } };
    const budgetStore = core.accountBudgetStores!.get(account.name)!;
    pollers.set(account.name, createPresencePoller(accountConfig, { api: routed.api, budgetStore, observer: metrics, onError: pollFailureLog(logger) }));
  }
  const file = config.instances!.file;
  return new RoutedWatch(
    (instanceId) => {
      const route = routed.routeOf(instanceId);
      return route && pollers.get(route.account.name);
    },
    [...pollers.values()],
    (instanceId) => new InvalidInputError(`Instance ${JSON.stringify(instanceId)} is not in INSTANCES_FILE ${file}`),
  );
}

/** The start line's view of INSTANCES_FILE: which account and endpoint serve which instances, and from which source. Never a secret. */
function routesForLog(config: Readonly<AppConfig>, routed: InstanceRoutes): object[] {
  const noticed = Object.values(config.instances!.instances).filter((instance) => instance.statusNotices).map((instance) => instance.instanceId);
  return routed.routes.map((route) => ({
    account: route.account.name,
    credentials: `${route.account.credentialsFrom}: ${routed.credentials.get(route.account.name)!.fetcher.describe}`,
    endpoint: route.endpoint,
    instances: route.instanceIds,
    ...(noticed.some((id) => route.instanceIds.includes(id)) && {
      statusNotices: config.statusNotices.enabled ? noticed.filter((id) => route.instanceIds.includes(id)) : 'off (STATUS_NOTICES=off): polled',
    }),
  }));
}

/**
 * A failing upstream fails every poll round: one warning a minute says so (with how many calls
 * failed meanwhile) instead of one per call. Upstream errors carry no secrets.
 */
function pollFailureLog(logger: Logger, everyMs = 60_000, what = 'subscription poll failed'): (error: PresenceError) => void {
  let lastAtMs = -Infinity;
  let failed = 0;
  return (error) => {
    failed++;
    if (Date.now() - lastAtMs < everyMs) return;
    lastAtMs = Date.now();
    logger.warn({ code: error.code, upstream: error.upstream, failedCalls: failed }, `${what}: ${error.message}`);
    failed = 0;
  };
}
