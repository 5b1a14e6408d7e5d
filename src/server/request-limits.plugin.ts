import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { PresenceErrorCode } from '../presence/errors';
import type { GraphQLContext } from '../graphql/context';
import { countRequestedDevices } from '../graphql/requested-devices';

/**
 * Rejects an operation that asks about more than `maxIdsPerRequest` distinct devices before it runs,
 * so it costs no upstream call at all (every call is billed, and the account shares 100 per second).
 */
export function requestLimitsPlugin(options: { maxIdsPerRequest: number; defaultInstanceId?: string }): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operationName, request }) {
          const requested = countRequestedDevices(schema, document, operationName, request.variables, options.defaultInstanceId);
          if (requested > options.maxIdsPerRequest) {
            throw new GraphQLError(
              `This operation asks for ${requested} distinct Client IDs; at most ${options.maxIdsPerRequest} are allowed per request (MAX_IDS_PER_REQUEST)`,
              { extensions: { code: PresenceErrorCode.BadUserInput, http: { status: 400 } } },
            );
          }
        },
      };
    },
  };
}
