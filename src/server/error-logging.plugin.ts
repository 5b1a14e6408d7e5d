import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { PresenceError, PresenceErrorCode } from '../presence/errors';
import type { GraphQLContext } from '../graphql/context';
import type { Logger } from './logger';

/**
 * Logs what an operator must act on: upstream failures (with the upstream code and RequestId) and
 * unexpected errors. Caller mistakes (BAD_USER_INPUT) are the caller's business and stay out.
 * Only error codes and messages are logged: never variables, headers or Client ID lists.
 */
export function errorLogging(logger: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, operationName }) {
          // One failed upstream call fails all of its IDs with the same error: log it once.
          const logged = new Set<unknown>();
          for (const error of errors) {
            const original = unwrapResolverError(error);
            if (logged.has(original)) continue;
            logged.add(original);
            if (original instanceof PresenceError) {
              if (original.code === PresenceErrorCode.BadUserInput) continue;
              logger.warn({ code: original.code, upstream: original.upstream, operationName }, original.message);
            } else if (!error.extensions?.code || error.extensions.code === 'INTERNAL_SERVER_ERROR') {
              logger.error({ err: original, operationName }, 'unexpected error while resolving a request');
            }
          }
        },
      };
    },
  };
}
