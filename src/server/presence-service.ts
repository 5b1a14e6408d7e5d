import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../config';
import type { GraphQLContext } from '../graphql/context';
import { formatGraphQLError } from '../graphql/errors';
import { buildPresenceSchema } from '../graphql/schema';
import { RequestPresence } from '../presence/presence-loaders';
import type { PresenceLookup } from '../presence/types';
import { createHttpApp, type ReadinessCheck } from './http-app';
import type { Logger } from './logger';
import type { PresenceMetrics } from './metrics';
import { operationBatchLimits } from './operation-batches';
import { requestLimitsPlugin } from './request-limits.plugin';
import { errorLogging } from './error-logging.plugin';

export interface PresenceServiceOptions {
  config: Readonly<AppConfig>;
  /** The process-wide presence core (dispatcher), shared by every request. */
  lookup: PresenceLookup;
  metrics: PresenceMetrics;
  logger: Logger;
  readiness?: readonly ReadinessCheck[];
}

export interface PresenceService {
  readonly httpServer: Server;
  /** Listens on the configured host and port (0: a free one); resolves with the GraphQL URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting requests, lets running ones finish, then resolves. */
  stop(): Promise<void>;
}

// 64 KiB holds any sensible operation plus MAX_IDS_PER_REQUEST Client IDs of 64 characters.
const MAX_BODY_BYTES = 64 * 1024;
// Apollo Client's BatchHttpLink sends at most 10 operations per request by default (batchMax); a
// batch shares one MAX_IDS_PER_REQUEST budget, so more operations would only add parsing work.
const MAX_OPERATIONS_PER_BATCH = 10;

export async function createPresenceService(options: PresenceServiceOptions): Promise<PresenceService> {
  const { config, lookup, metrics, logger } = options;
  const httpServer = createServer();
  // Built once per process, shared by every request.
  const schema = await buildPresenceSchema();
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    // A JSON array of operations is one request: one context, one loader, one ID budget (operation-batches.ts).
    allowBatchedHttpRequests: true,
    formatError: formatGraphQLError,
    includeStacktraceInErrorResponses: false,
    // main.ts owns the lifecycle: SIGTERM drains, then stops the upstream client and Redis too.
    stopOnTerminationSignals: false,
    logger,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      requestLimits(config),
      errorLogging(logger),
    ],
  });
  await apollo.start();

  const graphql = expressMiddleware(apollo, {
    // One RequestPresence per request: its DataLoaders must never outlive it.
    context: async () => ({
      presence: new RequestPresence(lookup, { maxIdsPerRequest: config.presence.maxIdsPerRequest }),
      defaultInstanceId: config.defaultInstanceId,
    }),
  });
  const batchLimits = operationBatchLimits(schema, {
    maxOperationsPerBatch: MAX_OPERATIONS_PER_BATCH,
    maxIdsPerRequest: config.presence.maxIdsPerRequest,
    defaultInstanceId: config.defaultInstanceId,
  });
  httpServer.on(
    'request',
    createHttpApp({ graphql: [batchLimits, graphql], metrics, readiness: options.readiness ?? [], maxBodyBytes: MAX_BODY_BYTES }),
  );

  return {
    httpServer,
    async listen(port = config.port, host = config.host) {
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
      const address = httpServer.address() as AddressInfo;
      const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      return `http://${shownHost}:${address.port}/graphql`;
    },
    async stop() {
      await apollo.stop();
    },
  };
}

function requestLimits(config: Readonly<AppConfig>) {
  return requestLimitsPlugin({ maxIdsPerRequest: config.presence.maxIdsPerRequest, defaultInstanceId: config.defaultInstanceId });
}
