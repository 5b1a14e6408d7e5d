import { malformedAnswer, safeRequestId, type UpstreamCallContext } from './upstream-errors';

/**
 * Defensive reading of the JSON bodies the two actions answer. The generated SDK casts bodies with
 * `$tea.cast`, which accepts `true`/`false`, `"true"`/`"false"` and `1`/`0` for a boolean field: the same
 * leniency is kept here so this client never refuses what the official one accepts. Anything else is a
 * malformed answer (UpstreamUnavailableError), never a crash or a guessed status.
 */

/** The answer's `RequestId`, which Alibaba support asks for; required on every documented answer. */
export function readRequestId(body: Record<string, unknown>, context: UpstreamCallContext): string {
  const requestId = body.RequestId;
  if (typeof requestId !== 'string' || requestId.length === 0) throw malformedAnswer(context);
  return safeRequestId(requestId);
}

/** An `OnlineStatus` field as the official SDK's cast would read it, or `undefined` when it is not one. */
export function readOnlineStatus(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 1) return true;
  if (value === 'false' || value === 0) return false;
  return undefined;
}
