import { GraphQLError, responsePathAsArray, type GraphQLFormattedError, type GraphQLResolveInfo } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { PresenceError, PresenceErrorCode, RateLimitedError, UpstreamThrottledError } from '../presence/errors';

/**
 * The one place where presence errors become GraphQL errors (Apollo's `formatError`): the typed
 * error's literal code goes to `extensions.code`, upstream details to `extensions.upstream` (the
 * RequestId is what Alibaba support asks for), throttling and the caller's fair share add `retryAfterMs`.
 *
 * Errors the service did not expect are masked: their text could carry internals.
 */
const INTROSPECTION_OFF = 'Introspection is off on this server (the operator turns it on with INTROSPECTION=true; it is off by default with NODE_ENV=production)';

export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof PresenceError) {
    return {
      ...formatted,
      message: original.message,
      extensions: presenceExtensions(original),
    };
  }
  const code = formatted.extensions?.code;
  if (code === 'INTERNAL_SERVER_ERROR' || code === undefined) {
    return { ...formatted, message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
  // Apollo's own codes (GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT, …): keep them, drop stack traces.
  const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
  // Apollo's text tells the caller to "pass introspection: true to ApolloServer": say what this service's operator sets.
  if (extensions.validationErrorCode === 'INTROSPECTION_DISABLED') return { ...formatted, message: INTROSPECTION_OFF, extensions };
  return { ...formatted, extensions };
}

/**
 * Throws a presence error as the error of the field being resolved, exactly as graphql-js would place
 * it (its message, the field's nodes and path, the presence error as `originalError`), but made
 * without capturing a stack trace. graphql-js keeps an error that already has its path; any other it
 * wraps in a new GraphQLError, whose Error constructor walks the whole execution stack: with ten
 * failed devices a request, that was almost half of the request's CPU (BENCHMARKS.md, performance
 * pass). Anything else is rethrown as it is, so an unexpected error keeps the stack an operator needs.
 */
export function throwAtField(error: unknown, info: GraphQLResolveInfo): never {
  if (!(error instanceof PresenceError)) throw error;
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const located = new GraphQLError(error.message, { nodes: info.fieldNodes, path: responsePathAsArray(info.path), originalError: error });
  Error.stackTraceLimit = stackTraceLimit;
  throw located;
}

export function presenceExtensions(error: PresenceError): Record<string, unknown> {
  const extensions: Record<string, unknown> = { code: error.code };
  switch (error.code) {
    case PresenceErrorCode.UpstreamThrottled:
      extensions.retryAfterMs = (error as UpstreamThrottledError).retryAfterMs;
      break;
    case PresenceErrorCode.RateLimited:
      extensions.retryAfterMs = (error as RateLimitedError).retryAfterMs;
      break;
    case PresenceErrorCode.Forbidden:
    case PresenceErrorCode.BadUserInput:
    case PresenceErrorCode.UpstreamUnavailable:
    case PresenceErrorCode.UpstreamAuthFailed:
    case PresenceErrorCode.UpstreamRejected:
    case PresenceErrorCode.StatusNoticesOff:
      break;
    default: {
      const unhandled: never = error.code;
      throw new Error(`unhandled presence error code ${String(unhandled)}`);
    }
  }
  if (error.upstream) extensions.upstream = { code: error.upstream.code, requestId: error.upstream.requestId ?? null };
  return extensions;
}
