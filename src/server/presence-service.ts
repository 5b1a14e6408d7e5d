import { ApolloServer, type PersistedQueryOptions } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { createServer, type Server } from 'node:http';
import type { AppConfig } from '../config';
import type { GraphQLContext } from '../graphql/context';
import { compiledExecutionPlugin } from '../graphql/compiled-execution';
import { formatGraphQLError } from '../graphql/errors';
import { buildPresenceSchema } from '../graphql/schema';
import { scopePredicate } from '../presence/caller-scope';
import { CallerWatches } from '../presence/caller-watches';
import { FairShare } from '../presence/fair-share';
import { RequestPresence } from '../presence/presence-loaders';
import type { PresenceWatch } from '../presence/presence-watch';
import type { GroupPresence } from '../presence/status-notices/group-presence';
import type { PresenceLookup } from '../presence/types';
import { AuthRefusalLog } from './auth/auth-refusal-log';
import { authenticateRequest } from './auth/authenticate-request';
import { createAuthenticator } from './auth/authenticator-from-config';
import type { Caller } from '../common/caller';
import { cors } from './http/cors';
import { defaultGraphiqlAssetsDir, graphiqlAssets, graphiqlOffPage, graphiqlPage } from './web/graphiql';
import { webPages, webPagesOff } from './web/pages';
import { graphqlHttpHandler } from './http/graphql-http-handler';
import { attachGraphQLWebSocket } from './ws/graphql-ws';
import { graphqlSseHandlerOptions } from './sse/graphql-sse';
import { graphqlSseHttp } from './sse/use-http';
import { httpCacheHooks } from './http/http-cache.plugin';
import { createHttpApp, createOpsApp, GRAPHQL_PATH, type ReadinessCheck } from './http/http-app';
import { hostAllowed, withHostCheck } from './http/allowed-hosts';
import { GRAPHQL_LISTENER, listenOn, OPS_LISTENER, serverOptions } from './http/listener';
import { ConnectionRefusalLog } from './observability/connection-refusal-log';
import type { Logger } from '../common/logger';
import type { PresenceMetrics } from './observability/metrics';
import { documentWorkLimit } from './limits/document-work';
import { operationBatchLimits, queryTextLimit } from './limits/operation-batches';
import { OperationShare, operationShareAdmission, operationShareCheck } from './limits/operation-share';
import { HeldRefusals } from './http/held-refusals';
import { persistedQueryChecks } from './limits/persisted-query-checks';
import { queryLimitRules } from './limits/query-limits.rules';
import { requestLimitsHooks, type RequestLimits } from './limits/request-limits.plugin';
import { errorLoggingHooks, RequestErrorLog } from './observability/error-logging.plugin';
import { inlineTracesPlugins } from './observability/inline-traces.plugin';
import { apolloLogger } from './observability/apollo-logger';
import { subscriptionsOverHttpHooks } from './http/subscriptions-over-http.plugin';
import { csrfPrevention } from './http/csrf';
import { documentRequestErrorsHooks } from './http/request-errors.plugin';
import { requestListenersPlugin } from './http/request-listeners.plugin';

export interface PresenceServiceOptions {
  config: Readonly<AppConfig>;
  /** The process-wide presence core (dispatcher), shared by every request. */
  lookup: PresenceLookup;
  metrics: PresenceMetrics;
  logger: Logger;
  readiness?: readonly ReadinessCheck[];
  /** Where subscriptions get presence changes (local broker or shared poller); one per process. */
  watch: PresenceWatch;
  /** Lists and counts of a group from the status notices; absent where they are off. */
  groups?: GroupPresence;
  /** Where Automatic Persisted Queries are kept (Redis when shared); @default Apollo's in-memory LRU. */
  apqCache?: PersistedQueryOptions['cache'];
}

export interface PresenceService {
  readonly httpServer: Server;
  /** Listens on the configured host and port (0: a free one), and OPS_PORT if set; resolves with the GraphQL URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** Where /healthz, /readyz and /metrics answer once listening (`http://host:port`): OPS_PORT's listener, or the GraphQL port's. */
  readonly opsUrl: string | undefined;
  /** Stops accepting requests, lets running ones finish, then resolves. */
  stop(): Promise<void>;
}

// 64 KiB holds any sensible operation plus MAX_IDS_PER_REQUEST Client IDs of 64 characters.
const MAX_BODY_BYTES = 64 * 1024;
// Apollo Client's BatchHttpLink sends at most 10 operations per request by default (batchMax); a
// batch shares one MAX_IDS_PER_REQUEST budget, so more operations would only add parsing work.
const MAX_OPERATIONS_PER_BATCH = 10;
// A day: a query registered once serves every client for a day, and Redis never fills with old ones.
const APQ_TTL_SECONDS = 24 * 60 * 60;

export async function createPresenceService(options: PresenceServiceOptions): Promise<PresenceService> {
  const { config, lookup, metrics, logger } = options;
  const httpServer = createServer(serverOptions());
  // Built once per process, shared by every request.
  const schema = await buildPresenceSchema();
  const errorLog = new RequestErrorLog(logger);
  const authRefusals = new AuthRefusalLog(logger);
  const connectionRefusals = new ConnectionRefusalLog(logger);
  // Traced callers get graphql-js, whose field hooks time.
  const compiled = config.compiledExecution ? compiledExecutionPlugin(schema, { skip: tracedCaller(config.security.inlineTraceCallers) }) : undefined;
  const apollo = new ApolloServer<GraphQLContext>({
    // Schema mode: graphql-js, with hot queries answered by graphql-jit through a plugin
    // (compiledExecutionPlugin below), not through the gateway interface, whose per-request wrapper
    // kept every request's objects alive until the next full GC (bench/perf-pass.md, fourth pass).
    schema,
    // A JSON array of operations is one request: one context, one loader, one ID budget (operation-batches.ts).
    allowBatchedHttpRequests: true,
    formatError: formatGraphQLError,
    // Compiled answers are written by their operation's serialiser; the text is what Apollo's default writes.
    stringifyResult: compiled?.stringifyResult,
    includeStacktraceInErrorResponses: false,
    introspection: config.security.introspection,
    // Field suggestions ("Did you mean …?") would reveal the schema that introspection hides.
    hideSchemaDetailsFromClientErrors: !config.security.introspection,
    // A GET or non-JSON POST needs a header that forces a preflight (credentials count), except on the
    // anonymous local instance, which bills nobody (http/csrf.ts).
    csrfPrevention: csrfPrevention({ source: config.source, authMode: config.security.authMode }),
    parseOptions: { maxTokens: config.security.limits.maxTokens },
    validationRules: queryLimitRules(config.security.limits),
    // main.ts owns the lifecycle: SIGTERM drains, then stops the upstream client and Redis too.
    stopOnTerminationSignals: false,
    logger: apolloLogger(logger),
    // Automatic Persisted Queries (on in Apollo by default): shared through Redis when set.
    persistedQueries: options.apqCache ? { cache: options.apqCache, ttl: APQ_TTL_SECONDS } : undefined,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Apollo's landing pages load from its CDN: GraphiQL is served by this service instead (graphiql.ts).
      ApolloServerPluginLandingPageDisabled(),
      // Cache-Control is decided by httpCacheHooks alone. Apollo's cache-control plugin is off, not
      // just its headers: it hooks every field of every request (BENCHMARKS.md, performance pass).
      ApolloServerPluginCacheControlDisabled(),
      // This service's own hooks, as one plugin with one listener (request-listeners.plugin.ts).
      requestListenersPlugin([
        httpCacheHooks({ cacheTtlMs: config.presence.cacheTtlMs }),
        subscriptionsOverHttpHooks(),
        documentRequestErrorsHooks(),
        requestLimitsHooks(requestLimitsOf(config)),
        errorLoggingHooks(errorLog),
        // Last: it answers in responseForOperation, after every check above ran in didResolveOperation.
        ...(compiled ? [compiled.hooks] : []),
      ]),
      // Per-field timings only for INLINE_TRACE_CALLERS (a federation router), never for anyone asking.
      ...inlineTracesPlugins(config.security.inlineTraceCallers),
    ],
  });
  await apollo.start();

  // Both per process, shared by every request: who callers are, and how much each has used.
  const authenticator = createAuthenticator(config.security, logger);
  const fairShare = config.security.callerLookupsPerSecond > 0 ? new FairShare({ lookupsPerSecond: config.security.callerLookupsPerSecond }) : undefined;
  const operationShare = config.security.callerOperationsPerSecond > 0 ? new OperationShare(config.security.callerOperationsPerSecond) : undefined;
  // What each caller watches, over all its sockets: MAX_WATCHED_DEVICES_PER_CALLER, and its lookup share.
  const callerWatches = new CallerWatches(options.watch, { maxDevicesPerCaller: config.security.limits.maxWatchedDevicesPerCaller, lookups: fairShare });
  // One RequestPresence per request: its DataLoaders must never outlive it. The caller's scope and
  // fair share are enforced there, so every way a device is asked about goes through them.
  // Over WebSocket, a context per operation and again per subscription event (graphql-ws.ts).
  const contextFor = (caller: Caller): GraphQLContext => {
    const scope = scopePredicate(caller.scope);
    return {
      caller,
      presence: new RequestPresence(lookup, {
        maxIdsPerRequest: config.presence.maxIdsPerRequest,
        scope,
        allowance: fairShare?.allowanceFor(caller.name),
      }),
      defaultInstanceId: config.defaultInstanceId,
      groups: options.groups,
      requestCost: { fields: 0 },
      subscriptions: { watch: callerWatches.for(caller.name), maxIdsPerSubscription: config.presence.maxIdsPerRequest, inScope: scope },
    };
  };
  const webSocket = attachGraphQLWebSocket({
    httpServer,
    schema,
    path: GRAPHQL_PATH,
    allowedOrigins: config.web.corsOrigins,
    maxPayloadBytes: MAX_BODY_BYTES,
    authenticator,
    contextFor,
    requestLimits: requestLimitsOf(config),
    parseOptions: { maxTokens: config.security.limits.maxTokens },
    validationRules: queryLimitRules(config.security.limits),
    maxFields: config.security.limits.maxFields,
    operationShare,
    introspection: config.security.introspection,
    logger,
    errorLog,
    authRefusals,
    isProduction: config.nodeEnv === 'production',
    maxQueryBytes: config.security.limits.maxQueryBytes,
    maxSubscriptionsPerConnection: config.security.limits.maxSubscriptionsPerConnection,
    maxConnectionsPerCaller: config.security.limits.maxConnectionsPerCaller,
    maxUnauthenticatedSocketsPerAddress: config.security.limits.maxUnauthenticatedSocketsPerAddress,
    hostAllowed: hostAllowed(config.web.allowedHosts),
    connectionRefusals,
  });
  const batchLimits = operationBatchLimits(schema, {
    maxOperationsPerBatch: MAX_OPERATIONS_PER_BATCH,
    maxIdsPerRequest: config.presence.maxIdsPerRequest,
    maxCost: config.security.limits.maxCost,
    defaultInstanceId: config.defaultInstanceId,
  });
  // Server-Sent Events (graphql-sse): the WebSocket path's checks, auth, limits and contexts (sse/).
  const csrf = csrfPrevention({ source: config.source, authMode: config.security.authMode });
  // Refusals over the share are answered after their retry time, on /graphql and its event streams
  // alike: a flood waits instead of looping, and one caller's held refusals are bounded across both.
  const heldRefusals = new HeldRefusals();
  // A caller that could not start one operation now is refused before its body is even read.
  const admission = operationShare ? [operationShareAdmission(operationShare)] : undefined;
  const eventStreams = graphqlSseHttp({
    handler: graphqlSseHandlerOptions({
      schema,
      contextFor,
      requestLimits: requestLimitsOf(config),
      parseOptions: { maxTokens: config.security.limits.maxTokens },
      validationRules: queryLimitRules(config.security.limits),
      maxFields: config.security.limits.maxFields,
      maxQueryBytes: config.security.limits.maxQueryBytes,
      operationShare,
      introspection: config.security.introspection,
      errorLog,
    }),
    cors: cors(config.web.corsOrigins, connectionRefusals),
    authenticate: authenticateRequest(authenticator, authRefusals),
    admission,
    heldRefusals,
    csrfRequestHeaders: csrf ? csrf.requestHeaders : undefined,
    maxBodyBytes: MAX_BODY_BYTES,
    // One stream is one operation: as many as a caller's WebSockets may run at once.
    maxStreamsPerCaller: config.security.limits.maxConnectionsPerCaller * config.security.limits.maxSubscriptionsPerConnection,
    connectionRefusals,
    logger,
  });
  const graphiqlAssetsDir = config.web.graphiqlEnabled ? defaultGraphiqlAssetsDir() : undefined;
  const graphql = graphqlHttpHandler({
    apollo,
    cors: cors(config.web.corsOrigins, connectionRefusals),
    // Before authentication: the page and its assets are public; the operations it sends are not.
    page: graphiqlAssetsDir ? graphiqlPage({ assetsDir: graphiqlAssetsDir }) : graphiqlOffPage(),
    authenticate: authenticateRequest(authenticator, authRefusals),
    admission,
    // Cheapest first, each before Apollo parses: nothing a check refuses is parsed, validated or looked up.
    checks: [
      queryTextLimit(config.security.limits.maxQueryBytes),
      ...(operationShare ? [operationShareCheck(operationShare)] : []),
      persistedQueryChecks(),
      documentWorkLimit({ maxFields: config.security.limits.maxFields, maxTokens: config.security.limits.maxTokens }),
      batchLimits,
    ],
    contextFor,
    heldRefusals,
    maxBodyBytes: MAX_BODY_BYTES,
    logger,
  });
  metrics.measureSubscriptions({
    webSocketConnections: () => webSocket.connections,
    sseStreams: () => eventStreams.streams,
    subscriptions: () => callerWatches.subscriptions,
    watchedDevices: () => callerWatches.watchedDevices,
  });
  const opsApp = createOpsApp({ metrics, readiness: options.readiness ?? [] });
  const ops = config.web.ops;
  httpServer.on(
    'request',
    withHostCheck(
      config.web.allowedHosts,
      connectionRefusals,
      createHttpApp({
        graphql,
        stream: eventStreams,
        graphiqlAssets: graphiqlAssetsDir ? graphiqlAssets({ assetsDir: graphiqlAssetsDir }) : undefined,
        // `/` and `/live`: the same rule as GraphiQL (GRAPHIQL_ENABLED), the same CSP.
        pages: graphiqlAssetsDir ? webPages({ assetsDir: graphiqlAssetsDir }) : webPagesOff(),
        ops: ops ? undefined : opsApp,
      }),
    ),
  );
  // OPS_PORT: the operator endpoints on a listener of their own, which the network keeps private.
  const opsServer = ops ? createServer(serverOptions(), withHostCheck(ops.allowedHosts, connectionRefusals, opsApp)) : undefined;
  let opsUrl: string | undefined;

  return {
    httpServer,
    get opsUrl() {
      return opsUrl;
    },
    async listen(port = config.port, host = config.host) {
      const base = await listenOn(httpServer, port, host, GRAPHQL_LISTENER);
      opsUrl = opsServer && ops ? await listenOn(opsServer, ops.port, ops.host, OPS_LISTENER) : base;
      return `${base}${GRAPHQL_PATH}`;
    },
    async stop() {
      // WebSockets first: upgraded sockets would keep the HTTP server's drain waiting.
      await webSocket.dispose();
      eventStreams.dispose();
      await apollo.stop();
      if (opsServer?.listening) await new Promise<void>((resolve) => opsServer.close(() => resolve()));
      errorLog.close();
      authRefusals.close();
      connectionRefusals.close();
    },
  };
}

/** Requests whose per-field timings Apollo's inline trace plugin may record (INLINE_TRACE_CALLERS). */
function tracedCaller(callers: readonly string[]): ((request: { contextValue: GraphQLContext }) => boolean) | undefined {
  if (callers.length === 0) return undefined;
  const traced = new Set(callers);
  return ({ contextValue }) => traced.has(contextValue.caller.name);
}

function requestLimitsOf(config: Readonly<AppConfig>): RequestLimits {
  return {
    maxIdsPerRequest: config.presence.maxIdsPerRequest,
    maxCost: config.security.limits.maxCost,
    defaultInstanceId: config.defaultInstanceId,
  };
}
