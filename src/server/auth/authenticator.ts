import type { Caller } from '../../common/caller';

/** What a request presents, whatever its transport (HTTP headers now, WebSocket connection params later). */
export interface Credentials {
  /** The token of `Authorization: Bearer <token>`. */
  bearer?: string;
  /** The `x-api-key` header. */
  apiKey?: string;
  /** The peer's address: only anonymous callers are told apart by it. */
  remoteAddress?: string;
}

/** Turns credentials into a caller, or throws `UnauthenticatedError`. One per process. */
export interface Authenticator {
  authenticate(credentials: Credentials): Promise<Caller>;
}

/**
 * Missing or wrong credentials: HTTP 401 with `extensions.code` UNAUTHENTICATED. The message is for
 * the caller and never repeats what was presented; `reason` is for the operator's log.
 */
export class UnauthenticatedError extends Error {
  readonly code = 'UNAUTHENTICATED' as const;
  override name = 'UnauthenticatedError';

  constructor(
    message: string,
    readonly reason: string,
    /** Whether the same credentials may pass later (the key set was unreachable): a WebSocket closes 4403, which clients retry, rather than 4401. */
    readonly retryable = false,
  ) {
    super(message);
  }
}

export const MISSING_CREDENTIALS = 'Authentication required: send Authorization: Bearer <credential>';

/** The bearer token of an Authorization header; undefined for none or another scheme. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  return match?.[1];
}
