import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { ForbiddenError, PresenceError, PresenceErrorCode, RateLimitedError } from '../presence/errors';
import type { GraphQLContext } from '../graphql/context';
import type { Logger } from './logger';
import type { RefusalLog } from './refusal-log';

// Refusals the caller caused and can fix; the operator needs no line per Client ID for them.
const CALLERS_BUSINESS = new Set([PresenceErrorCode.BadUserInput, PresenceErrorCode.Forbidden, PresenceErrorCode.RateLimited]);

/**
 * Logs what an operator must act on: upstream failures (with the upstream code and RequestId) and
 * unexpected errors. Caller mistakes (BAD_USER_INPUT) are the caller's business and stay out; lookups
 * refused for the caller's scope or fair share are counted per caller (RefusalLog), so an operator can
 * spot a greedy or misconfigured client without a line per Client ID or per request.
 * Only error codes and messages are logged: never variables, headers or Client ID lists.
 */
export function errorLogging(logger: Logger, refusals: RefusalLog): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, operationName, contextValue }) {
          logRequestErrors(logger, refusals, errors, operationName, contextValue.caller.name);
        },
      };
    },
  };
}

/** The logging of one request's errors, over HTTP (the plugin above) or WebSocket (graphql-ws.ts). */
export function logRequestErrors(
  logger: Logger,
  refusals: RefusalLog,
  errors: readonly GraphQLError[],
  operationName: string | null | undefined,
  callerName: string,
): void {
  // One failed upstream call fails all of its IDs with the same error: log it once.
  const logged = new Set<unknown>();
  const refused = { forbidden: 0, rateLimited: 0 };
  for (const error of errors) {
    const original = unwrapResolverError(error);
    if (original instanceof ForbiddenError) refused.forbidden++;
    if (original instanceof RateLimitedError) refused.rateLimited++;
    if (logged.has(original)) continue;
    logged.add(original);
    if (original instanceof PresenceError) {
      if (CALLERS_BUSINESS.has(original.code)) continue;
      logger.warn({ code: original.code, upstream: original.upstream, operationName }, original.message);
    } else if (!error.extensions?.code || error.extensions.code === 'INTERNAL_SERVER_ERROR') {
      logger.error({ err: original, operationName }, 'unexpected error while resolving a request');
    }
  }
  if (refused.forbidden + refused.rateLimited > 0) refusals.record(callerName, refused, operationName);
}
