import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { PresenceErrorCode } from '../presence/errors';
import type { GraphQLContext } from '../graphql/context';
import { countRequestedDevices } from '../graphql/requested-devices';

/**
 * Rejects an operation that asks about more than `maxIdsPerRequest` distinct devices before it runs,
 * so it costs no upstream call at all (every call is billed, and the account shares 100 per second).
 * A batch of operations is counted as a whole before Apollo sees it (operation-batches.ts).
 */
export function requestLimitsPlugin(options: { maxIdsPerRequest: number; defaultInstanceId?: string }): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operationName, request }) {
          const requested = countRequestedDevices(schema, document, operationName, request.variables, options.defaultInstanceId);
          if (requested > options.maxIdsPerRequest) throw tooManyDevicesError(requested, options.maxIdsPerRequest);
        },
      };
    },
  };
}

/** The refusal of a request over MAX_IDS_PER_REQUEST: the whole request, HTTP 400, no upstream call. */
export function tooManyDevicesError(requested: number, maxIdsPerRequest: number, asker = 'This operation'): GraphQLError {
  return new GraphQLError(
    `${asker} asks for ${requested} distinct Client IDs; at most ${maxIdsPerRequest} are allowed per request (MAX_IDS_PER_REQUEST)`,
    { extensions: { code: PresenceErrorCode.BadUserInput, http: { status: 400 } } },
  );
}
