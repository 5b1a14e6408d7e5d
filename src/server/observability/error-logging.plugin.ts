import type { GraphQLError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { ForbiddenError, PresenceError, PresenceErrorCode, RateLimitedError } from '../../presence/errors';
import type { Logger } from '../../common/logger';
import type { LogSummaryOptions } from './log-summary';
import { RefusalLog } from './refusal-log';
import { UpstreamFailureLog } from './upstream-failure-log';
import type { RequestHooks } from '../http/request-listeners.plugin';

// Refusals the caller caused and can fix; the operator needs no line per Client ID for them.
const CALLERS_BUSINESS = new Set([PresenceErrorCode.BadUserInput, PresenceErrorCode.Forbidden, PresenceErrorCode.RateLimited]);

/**
 * Logs what an operator must act on, from the errors of each request (over HTTP through the plugin
 * below, over WebSocket from graphql-ws.ts): upstream failures (with the upstream code and RequestId)
 * and unexpected errors. Caller mistakes (BAD_USER_INPUT) are the caller's business and stay out.
 * Upstream failures are summarised per kind (UpstreamFailureLog) and lookups refused for the caller's
 * scope or fair share per caller (RefusalLog): the first at once, then a line per interval with
 * counts, so neither an outage nor a greedy client floods the logs.
 * Only error codes and messages are logged: never variables, headers or Client ID lists.
 */
export class RequestErrorLog {
  private readonly refusals: RefusalLog;
  private readonly upstreamFailures: UpstreamFailureLog;

  constructor(
    private readonly logger: Logger,
    options: LogSummaryOptions = {},
  ) {
    this.refusals = new RefusalLog(logger, { intervalMs: options.intervalMs, maxCallers: options.maxKeys, now: options.now });
    this.upstreamFailures = new UpstreamFailureLog(logger, options);
  }

  record(errors: readonly GraphQLError[], operationName: string | null | undefined, callerName: string): void {
    // One failed upstream call fails all of its IDs with the same error: it counts once.
    const seen = new Set<unknown>();
    const refused = { forbidden: 0, rateLimited: 0 };
    for (const error of errors) {
      const original = unwrapResolverError(error);
      if (original instanceof ForbiddenError) refused.forbidden++;
      if (original instanceof RateLimitedError) refused.rateLimited++;
      if (seen.has(original)) continue;
      seen.add(original);
      if (original instanceof PresenceError) {
        if (!CALLERS_BUSINESS.has(original.code)) this.upstreamFailures.record(original, operationName);
      } else if (!error.extensions?.code || error.extensions.code === 'INTERNAL_SERVER_ERROR') {
        this.logger.error({ err: original, operationName }, 'unexpected error while resolving a request');
      }
    }
    if (refused.forbidden + refused.rateLimited > 0) this.refusals.record(callerName, refused, operationName);
  }

  /** Writes what is counted and not yet written, and stops the timers (at shutdown). */
  close(): void {
    this.refusals.close();
    this.upstreamFailures.close();
  }
}

export function errorLoggingHooks(errorLog: RequestErrorLog): RequestHooks {
  return {
    async didEncounterErrors({ errors, operationName, contextValue }) {
      errorLog.record(errors, operationName, contextValue.caller.name);
    },
  };
}
