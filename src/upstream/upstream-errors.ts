import {
  PresenceError,
  UpstreamAuthFailedError,
  UpstreamRejectedError,
  UpstreamThrottledError,
  UpstreamUnavailableError,
  type UpstreamErrorDetail,
} from '../presence/errors';
import { SessionAction } from '../presence/session-api';

/**
 * The one place where whatever `@alicloud/openapi-client` throws becomes a typed presence error.
 *
 * What the SDK throws (read from tea-typescript 1.8 / openapi-client 0.4.15 / httpx 2.3, and observed):
 * - an HTTP 4xx/5xx answer: an `Error` with `.code` (the body's `Code`, or the string "undefined" when the
 *   body has none), `.statusCode`, `.data` (the parsed body plus `statusCode`) and a `.message` echoing the
 *   body's `Message`. SignatureDoesNotMatch's Message contains the server's string to sign, which under
 *   the V1 signature includes the SecurityToken: so no upstream text is ever forwarded.
 * - no answer: Node's socket errors (`.code` ECONNREFUSED, ECONNRESET, ENOTFOUND…) and httpx's
 *   `name === 'RequestTimeoutError'`; their `.message` ends with the full request URL, which under the V1
 *   signature carries AccessKeyId, Signature and SecurityToken.
 * - an answer that is not a JSON object: `SyntaxError` from JSON.parse, or tea-util's
 *   `Error('The value is not a object')`.
 * So messages are built here from the code, the HTTP status and the RequestId only.
 */

/**
 * Which call failed; ours, never upstream text. Not the endpoint: these messages reach callers, and
 * a private endpoint's host name is the operator's business (it is in the start log).
 */
export interface UpstreamCallContext {
  action: SessionAction;
}

/**
 * The rolling-second QPS window of the account budget (upstream-api.md: 100/s batch, 500/s exact):
 * after SystemOverFlow / Throttling.*, the next window is the earliest a retry can be admitted.
 */
export const THROTTLED_RETRY_AFTER_MS = 1000;

/** `upstream.code` when no HTTP answer came back, or the answer could not be read. */
export const NO_ANSWER_CODES = Object.freeze({
  network: 'network',
  timeout: 'timeout',
  malformed: 'MalformedResponse',
  credentials: 'CredentialsUnavailable',
  unexpected: 'UnexpectedError',
});

type FailureKind = 'throttled' | 'unavailable' | 'auth' | 'rejected';

interface CodeRule {
  kind: FailureKind;
  /** What an operator should check; `{ram}` is replaced by the action's RAM action. */
  hint: string;
}

const CREDENTIALS_HINT =
  'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS), ' +
  'or configure another source of the @alicloud/credentials default chain (OIDC, CLI profile, ~/.alibabacloud/credentials, ECS RAM role, ALIBABA_CLOUD_CREDENTIALS_URI); ' +
  'ALIBABA_CLOUD_CREDENTIALS_SOURCE picks one (docs/credentials.md)';

const RAM_HINT = 'a RAM policy must allow {ram} on the instance for the identity in use';
const SECRET_HINT = 'check that ALIBABA_CLOUD_ACCESS_KEY_SECRET belongs to the AccessKey ID in use';
const ENDPOINT_HINT = 'the endpoint does not serve onsmqtt 2020-04-20 or this action; check ALIBABA_CLOUD_REGION_ID / ONSMQTT_ENDPOINT';

/** Exact codes: the actions' documented codes (upstream-api.md table) and common gateway codes. */
const EXACT_CODES: Readonly<Record<string, CodeRule>> = {
  SystemOverFlow: { kind: 'throttled', hint: 'the account exceeded the QPS limit of this action; check UPSTREAM_BATCH_QPS / UPSTREAM_EXACT_QPS and other callers sharing the account' },
  Throttling: { kind: 'throttled', hint: 'the API gateway throttled the account; check UPSTREAM_BATCH_QPS / UPSTREAM_EXACT_QPS and other callers sharing the account' },
  InternalError: { kind: 'unavailable', hint: 'a fault inside ApsaraMQ for MQTT; it usually passes, retry later' },
  ServiceUnavailable: { kind: 'unavailable', hint: 'the service is temporarily unavailable; retry later' },
  // The SDK draws a fresh nonce per call, so a reused nonce is a one-off collision: another call succeeds.
  SignatureNonceUsed: { kind: 'unavailable', hint: 'a signature nonce was reused; a new call uses a new nonce' },
  CheckAccountInfoFailed: { kind: 'auth', hint: 'the STS token failed the account check; check ALIBABA_CLOUD_SECURITY_TOKEN belongs to the AccessKey and has not expired' },
  InstancePermissionCheckFailed: { kind: 'auth', hint: 'the instance is not owned by or not authorised for this account; check the instance ID (the query\'s instanceId, or MQTT_INSTANCE_ID) and that the region / ONSMQTT_ENDPOINT is the instance\'s' },
  PermissionCheckFailed: { kind: 'auth', hint: RAM_HINT },
  NoPermission: { kind: 'auth', hint: RAM_HINT },
  SignatureDoesNotMatch: { kind: 'auth', hint: SECRET_HINT },
  IncompleteSignature: { kind: 'auth', hint: SECRET_HINT },
  // A wrong region or endpoint: the gateway there knows neither the action nor the version.
  ApiNotSupport: { kind: 'auth', hint: ENDPOINT_HINT },
  InvalidVersion: { kind: 'auth', hint: ENDPOINT_HINT },
  // Thrown by the SDK itself when it holds no credential at all.
  InvalidCredentials: { kind: 'auth', hint: CREDENTIALS_HINT },
  ParameterCheckFailed: { kind: 'rejected', hint: 'a parameter was missing or invalid, possibly one Client ID of the batch; check the Instance ID and Client IDs' },
};

/** Code families the gateway extends with a suffix (`Throttling.User`, `InvalidAccessKeyId.NotFound`…). */
const CODE_PREFIXES: ReadonlyArray<readonly [string, CodeRule]> = [
  ['Throttling.', EXACT_CODES.Throttling],
  ['InvalidAccessKeyId.', { kind: 'auth', hint: 'the AccessKey ID is unknown or disabled; check ALIBABA_CLOUD_ACCESS_KEY_ID' }],
  ['InvalidSecurityToken.', { kind: 'auth', hint: 'the STS token is invalid or expired; check ALIBABA_CLOUD_SECURITY_TOKEN or the role that issues it' }],
  ['InvalidTimeStamp.', { kind: 'auth', hint: 'the request time was refused; check that this host\'s clock is synchronised (NTP)' }],
  ['InvalidAction.', { kind: 'auth', hint: ENDPOINT_HINT }],
  ['Forbidden.', { kind: 'auth', hint: RAM_HINT }],
  ['InvalidParameter.', { kind: 'rejected', hint: 'the named parameter was refused; check the Instance ID and Client IDs' }],
];

/** RAM action each call needs (upstream-api.md, "RAM action"). */
const RAM_ACTIONS: Readonly<Record<SessionAction, string>> = {
  [SessionAction.Batch]: 'mq:BatchQuerySessionByClientIds',
  [SessionAction.Exact]: 'mq:MqttInstanceAccess',
};

/**
 * Maps anything a call through the SDK threw to a typed presence error. Never rethrows. Only the SDK
 * call itself is wrapped (openapi-client.ts), so an unexpected error here is the SDK's, not a bug of ours.
 */
export function toUpstreamError(error: unknown, context: UpstreamCallContext): PresenceError {
  if (error instanceof PresenceError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;

  if (typeof e.statusCode === 'number') return fromHttpAnswer(e, e.statusCode, context);
  if (e.name === 'RequestTimeoutError' || e.code === 'ETIMEDOUT') {
    return new UpstreamUnavailableError(
      // httpx also applies the connect timeout as the socket's idle timeout, so either setting may have ended it.
      `${context.action} timed out without an answer; check the network path to the endpoint and UPSTREAM_CONNECT_TIMEOUT_MS / UPSTREAM_READ_TIMEOUT_MS`,
      { code: NO_ANSWER_CODES.timeout },
    );
  }
  // The SDK's own refusals before sending (e.g. InvalidCredentials) carry a code but no status.
  if (typeof e.code === 'string' && hasRule(e.code)) return fromCode(e.code, undefined, undefined, context);
  // Node's socket and TLS errors: ECONNREFUSED, ECONNRESET, ENOTFOUND, CERT_HAS_EXPIRED, ERR_TLS_…
  if (typeof e.code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(e.code)) {
    // Only the system code is shown: it is a fixed token, unlike the message, which ends with the URL.
    return new UpstreamUnavailableError(
      `${context.action} failed before any answer (${e.code}); check that the endpoint is reachable from this host`,
      { code: NO_ANSWER_CODES.network },
    );
  }
  if (e.name === 'SyntaxError' || e.message === 'The value is not a object') return malformedAnswer(context);
  return new UpstreamUnavailableError(
    `${context.action} failed unexpectedly (${safeName(e.name)})`,
    { code: NO_ANSWER_CODES.unexpected },
  );
}

/** An answer whose body does not have the documented shape: the upstream (or a proxy) misbehaved. */
export function malformedAnswer(context: UpstreamCallContext, requestId?: string): UpstreamUnavailableError {
  return new UpstreamUnavailableError(
    `${context.action} got an answer that is not the documented JSON${requestIdNote(requestId)}; check that ONSMQTT_ENDPOINT points at the onsmqtt OpenAPI and not at a proxy or another service`,
    { code: NO_ANSWER_CODES.malformed, requestId },
  );
}

/**
 * A source of credentials failed: it did not answer, refused, or answered something unusable. The
 * message names the source and where it asks (credential-sources.ts `describe`), and a fixed reason:
 * never what the source said, which may quote a secret.
 */
export function credentialSourceFailed(source: string, describe: string, reason: string): UpstreamAuthFailedError {
  return new UpstreamAuthFailedError(
    `No valid Alibaba Cloud credentials from source ${source} (${describe}): ${reason}; lookups resume by themselves once it answers`,
    { code: NO_ANSWER_CODES.credentials },
  );
}

/** At start, ALIBABA_CLOUD_CREDENTIALS_SOURCE=chain found no source that answered; `tried` names them with their reasons. */
export function credentialsUnavailable(tried: readonly string[]): UpstreamAuthFailedError {
  const what = tried.length === 0 ? 'no source is configured' : `tried ${tried.join('; ')}`;
  return new UpstreamAuthFailedError(`No Alibaba Cloud credentials could be resolved (${what}): ${CREDENTIALS_HINT}`, { code: NO_ANSWER_CODES.credentials });
}

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  data?: { RequestId?: unknown; requestId?: unknown } | null;
}

function fromHttpAnswer(e: SdkErrorShape, status: number, context: UpstreamCallContext): PresenceError {
  const raw = e.data?.RequestId ?? e.data?.requestId;
  const requestId = typeof raw === 'string' && raw.length > 0 ? safeRequestId(raw) : undefined;
  // The SDK interpolates a missing `Code` as the string "undefined".
  const code = typeof e.code === 'string' && e.code !== '' && e.code !== 'undefined' ? e.code : undefined;
  if (code) return fromCode(code, status, requestId, context);
  const kind: FailureKind = status >= 500 ? 'unavailable' : status === 429 ? 'throttled' : status === 401 || status === 403 ? 'auth' : 'rejected';
  return build(kind, `HTTP_${status}`, status, requestId, 'the answer carried no error code; check ONSMQTT_ENDPOINT and any proxy in between', context);
}

function fromCode(code: string, status: number | undefined, requestId: string | undefined, context: UpstreamCallContext): PresenceError {
  const rule = ruleFor(code, status);
  return build(rule.kind, code, status, requestId, rule.hint.replace('{ram}', RAM_ACTIONS[context.action]), context);
}

function ruleFor(code: string, status: number | undefined): CodeRule {
  if (hasRule(code)) return EXACT_CODES[code];
  const byPrefix = CODE_PREFIXES.find(([prefix]) => code.startsWith(prefix));
  if (byPrefix) return byPrefix[1];
  // An undocumented code: the HTTP status is the best evidence of whose problem it is.
  if (status !== undefined && status >= 500) return { kind: 'unavailable', hint: 'an undocumented upstream fault; retry later' };
  return { kind: 'rejected', hint: 'an undocumented refusal; look the code up in the ApsaraMQ for MQTT API reference' };
}

function hasRule(code: string): boolean {
  return Object.prototype.hasOwnProperty.call(EXACT_CODES, code);
}

function build(kind: FailureKind, code: string, status: number | undefined, requestId: string | undefined, hint: string, context: UpstreamCallContext): PresenceError {
  const upstream: UpstreamErrorDetail = { code: safeCode(code), requestId };
  const said = `(${upstream.code}${status === undefined ? '' : `, HTTP ${status}`}${requestIdNote(requestId, ', ')})`;
  switch (kind) {
    case 'throttled':
      return new UpstreamThrottledError(`${context.action} was throttled by the upstream ${said}: ${hint}`, THROTTLED_RETRY_AFTER_MS, upstream);
    case 'unavailable':
      return new UpstreamUnavailableError(`${context.action} failed inside the upstream ${said}: ${hint}`, upstream);
    case 'auth':
      return new UpstreamAuthFailedError(`${context.action} was refused for the operator's credentials or setup ${said}: ${hint}`, upstream);
    case 'rejected':
      return new UpstreamRejectedError(`${context.action} was rejected by the upstream ${said}: ${hint}`, upstream);
    default:
      return assertNever(kind);
  }
}

/**
 * A RequestId as callers and logs may be shown it: Alibaba's are UUIDs. Anything else (a proxy's
 * page, a hostile stand-in) is cut to 100 characters, and characters outside [A-Za-z0-9._-] become
 * `?`, so no upstream text reaches an answer or a log line.
 */
export function safeRequestId(raw: string): string {
  return raw.slice(0, 100).replace(/[^A-Za-z0-9._-]/g, '?');
}

function requestIdNote(requestId: string | undefined, prefix = ' '): string {
  return requestId ? `${prefix}RequestId ${requestId}` : '';
}

/** Upstream codes are identifiers like `InvalidAccessKeyId.NotFound`; anything else is not echoed. */
function safeCode(code: string): string {
  return /^[A-Za-z0-9_.-]{1,80}$/.test(code) ? code : 'UnrecognisedCode';
}

function safeName(name: unknown): string {
  return typeof name === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(name) ? name : 'Error';
}

function assertNever(value: never): never {
  throw new Error(`unhandled failure kind ${String(value)}`);
}
