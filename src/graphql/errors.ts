import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { PresenceError, PresenceErrorCode, RateLimitedError, UpstreamThrottledError } from '../presence/errors';

/**
 * The one place where presence errors become GraphQL errors (Apollo's `formatError`): the typed
 * error's literal code goes to `extensions.code`, upstream details to `extensions.upstream` (the
 * RequestId is what Alibaba support asks for), throttling and the caller's fair share add `retryAfterMs`.
 *
 * Errors the service did not expect are masked: their text could carry internals.
 */
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
  return { ...formatted, extensions };
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
      break;
    default: {
      const unhandled: never = error.code;
      throw new Error(`unhandled presence error code ${String(unhandled)}`);
    }
  }
  if (error.upstream) extensions.upstream = { code: error.upstream.code, requestId: error.upstream.requestId ?? null };
  return extensions;
}
