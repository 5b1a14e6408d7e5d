/**
 * Every failure a Client ID lookup can end in, as typed errors with a literal code. The codes are the
 * public contract (`extensions.code` in GraphQL); `graphql/errors.ts` is the one place that turns these
 * into GraphQL errors.
 */
export enum PresenceErrorCode {
  BadUserInput = 'BAD_USER_INPUT',
  UpstreamThrottled = 'UPSTREAM_THROTTLED',
  UpstreamUnavailable = 'UPSTREAM_UNAVAILABLE',
  UpstreamAuthFailed = 'UPSTREAM_AUTH_FAILED',
  UpstreamRejected = 'UPSTREAM_REJECTED',
  Forbidden = 'FORBIDDEN',
  RateLimited = 'RATE_LIMITED',
  StatusNoticesOff = 'STATUS_NOTICES_OFF',
}

/** What the upstream said, kept for operators: the RequestId is what Alibaba support asks for. */
export interface UpstreamErrorDetail {
  /** The upstream's `Code` (e.g. `SystemOverFlow`), or `network` / `timeout` when no answer came. */
  code: string;
  requestId?: string;
}

export abstract class PresenceError extends Error {
  abstract readonly code: PresenceErrorCode;
  /** Whether the same call may succeed if tried again later (throttling, transient faults). */
  readonly retryable: boolean = false;

  constructor(message: string, readonly upstream?: UpstreamErrorDetail) {
    // No stack trace: a presence error is an answer about a device, not a bug. Its stack is never
    // logged or returned, yet capturing it and formatting it (graphql-js copies `originalError.stack`
    // into every GraphQLError made from it) was most of what a refused request cost.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = new.target.name;
    // What V8 would format anyway with no frames, as a plain value: reading a captured stack, even an
    // empty one, goes through Node's prepareStackTrace on every read, and graphql-js reads it for
    // every error it places at a field.
    Object.defineProperty(this, 'stack', { value: `${this.name}: ${message}`, writable: true, configurable: true });
  }
}

/** A Client ID that breaks the upstream's rules, or a request asking for too much. Never sent upstream. */
export class InvalidInputError extends PresenceError {
  readonly code = PresenceErrorCode.BadUserInput;
}

/**
 * A device outside the caller's scope (its instances and Group IDs). Never sent upstream: no bill, and
 * no answer whose timing could hint at the device's status.
 */
export class ForbiddenError extends PresenceError {
  readonly code = PresenceErrorCode.Forbidden;
}

/**
 * The caller has used its fair share of lookups per second (CALLER_LOOKUPS_PER_SECOND), so that one
 * caller cannot starve the others of the account's shared budget. Never sent upstream.
 */
export class RateLimitedError extends PresenceError {
  readonly code = PresenceErrorCode.RateLimited;
  override readonly retryable = true;

  constructor(message: string, readonly retryAfterMs: number) {
    super(message);
  }
}

/**
 * A question only the status notices can answer (which devices of a group are online, how many) on a
 * deployment that has them off. Never sent upstream: the batch action cannot list a group.
 */
export class StatusNoticesOffError extends PresenceError {
  readonly code = PresenceErrorCode.StatusNoticesOff;
}

/** SystemOverFlow / Throttling.* from the upstream, or no local budget in time. */
export class UpstreamThrottledError extends PresenceError {
  readonly code = PresenceErrorCode.UpstreamThrottled;
  override readonly retryable = true;

  constructor(message: string, readonly retryAfterMs: number, upstream?: UpstreamErrorDetail) {
    super(message, upstream);
  }
}

/** InternalError, network faults, timeouts, an open circuit. */
export class UpstreamUnavailableError extends PresenceError {
  readonly code = PresenceErrorCode.UpstreamUnavailable;
  // Typed `boolean`, not `true`: an open circuit (circuit-breaker.ts) is unavailable but not retryable.
  override readonly retryable: boolean = true;
}

/** Signature, AccessKey, STS, instance or RAM permission problems: for the operator, not the caller. */
export class UpstreamAuthFailedError extends PresenceError {
  readonly code = PresenceErrorCode.UpstreamAuthFailed;
}

/** A 400 that local validation did not foresee. */
export class UpstreamRejectedError extends PresenceError {
  readonly code = PresenceErrorCode.UpstreamRejected;
}

/**
 * SessionApi implementations throw typed errors (`upstream/` maps the upstream's codes). Anything
 * else is a fault in reaching the upstream that nobody classified: unavailable, code `network`.
 */
export function asPresenceError(error: unknown): PresenceError {
  if (error instanceof PresenceError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new UpstreamUnavailableError(`The upstream could not be reached: ${message}`, { code: 'network' });
}
