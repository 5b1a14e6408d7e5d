import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import { formatGraphQLError } from '../../graphql/errors';

/**
 * Errors over a stream (WebSocket, Server-Sent Events): the same shapes as over HTTP (Apollo's formatError: codes, no internals), less the HTTP
 * status some refusals carry for Apollo (`extensions.http`), which means nothing on a socket. With
 * introspection off, "Did you mean …?" goes too, like Apollo's hideSchemaDetailsFromClientErrors.
 */
export function formatForStream(error: GraphQLError, hideSchemaDetails: boolean): GraphQLFormattedError {
  const formatted = formatGraphQLError(error.toJSON(), error);
  const message = hideSchemaDetails ? formatted.message.replace(/ ?Did you mean(.+?)\?$/, '') : formatted.message;
  const { http: _http, ...extensions } = formatted.extensions ?? {};
  return { ...formatted, message, ...(formatted.extensions && { extensions }) };
}
