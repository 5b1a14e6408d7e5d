import * as $tea from '@alicloud/tea-typescript';
import {
  PresenceErrorCode,
  UpstreamAuthFailedError,
  UpstreamRejectedError,
  UpstreamThrottledError,
  UpstreamUnavailableError,
  type PresenceError,
} from '../../../src/presence/errors';
import { SessionAction } from '../../../src/presence/session-api';
import { NO_ANSWER_CODES, THROTTLED_RETRY_AFTER_MS, toUpstreamError } from '../../../src/upstream/upstream-errors';

const SECRET = 'sk-TOPSECRET-accesskey-secret';
const TOKEN = 'sts-TOPSECRET-security-token';
const context = { action: SessionAction.Batch, endpoint: 'https://onsmqtt.cn-hangzhou.aliyuncs.com' };

/** An HTTP error answer exactly as openapi-client 0.4.15 `doRequest` turns it into an error. */
function answerError(statusCode: number, body: Record<string, unknown>): Error {
  const data = { ...body, statusCode };
  return $tea.newError({
    code: `${body.Code ?? body.code}`,
    message: `code: ${statusCode}, ${body.Message} request id: ${body.RequestId}`,
    data,
    description: `${body.Description}`,
    accessDeniedDetail: body.AccessDeniedDetail,
  });
}

/** A body shaped like onsmqtt's: its Message may quote the string to sign, credentials included (V1). */
function body(code: string, requestId = 'REQ-1234-ABCD') {
  return {
    RequestId: requestId,
    HostId: 'onsmqtt.cn-hangzhou.aliyuncs.com',
    Code: code,
    Message: `failed; server string to sign is:POST&%2F&AccessKeySecret%3D${SECRET}%26SecurityToken%3D${TOKEN}`,
    Recommend: 'https://api.aliyun.com/troubleshoot?q=' + code,
  };
}

/** A Node socket error as httpx rejects it: the message ends with the request URL (V1: signed query). */
function socketError(code: string): Error {
  const url = `http://onsmqtt.cn-hangzhou.aliyuncs.com/?Action=BatchQuerySessionByClientIds&SecurityToken=${TOKEN}&Signature=${SECRET}`;
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1POST ${url} failed.`), { code, errno: -111, syscall: 'connect' });
}

function httpxTimeout(kind: 'ReadTimeout(1000).' | 'ConnectTimeout: Connect'): Error {
  return Object.assign(new Error(`${kind} http://h/?SecurityToken=${TOKEN} failed.`), { name: 'RequestTimeoutError' });
}

function expectNoSecrets(error: PresenceError): void {
  const everything = `${error.message} ${error.stack ?? ''} ${JSON.stringify(error)} ${JSON.stringify(error.upstream)}`;
  expect(everything).not.toContain(SECRET);
  expect(everything).not.toContain(TOKEN);
  expect(everything).not.toContain('string to sign');
}

type ErrorClass = abstract new (...args: never[]) => PresenceError;

// upstream-api.md, "Error codes of the two actions" and the gateway-wide codes below it.
const documented: Array<[number, string, ErrorClass, PresenceErrorCode]> = [
  [400, 'CheckAccountInfoFailed', UpstreamAuthFailedError, PresenceErrorCode.UpstreamAuthFailed],
  [400, 'InstancePermissionCheckFailed', UpstreamAuthFailedError, PresenceErrorCode.UpstreamAuthFailed],
  [400, 'ParameterCheckFailed', UpstreamRejectedError, PresenceErrorCode.UpstreamRejected],
  [400, 'PermissionCheckFailed', UpstreamAuthFailedError, PresenceErrorCode.UpstreamAuthFailed],
  [400, 'InvalidParameter.ClientIdList', UpstreamRejectedError, PresenceErrorCode.UpstreamRejected],
  [404, 'ApiNotSupport', UpstreamAuthFailedError, PresenceErrorCode.UpstreamAuthFailed],
  [500, 'InternalError', UpstreamUnavailableError, PresenceErrorCode.UpstreamUnavailable],
  [500, 'SystemOverFlow', UpstreamThrottledError, PresenceErrorCode.UpstreamThrottled],
  [503, 'ServiceUnavailable', UpstreamUnavailableError, PresenceErrorCode.UpstreamUnavailable],
  [400, 'Throttling.User', UpstreamThrottledError, PresenceErrorCode.UpstreamThrottled],
  [400, 'Throttling.Api', UpstreamThrottledError, PresenceErrorCode.UpstreamThrottled],
  [400, 'Throttling', UpstreamThrottledError, PresenceErrorCode.UpstreamThrottled],
  [400, 'SignatureDoesNotMatch', UpstreamAuthFailedError, PresenceErrorCode.UpstreamAuthFailed],
  [404, 'InvalidAccessKeyId.NotFound', UpstreamAuthFailedError, PresenceErrorCode.UpstreamAuthFailed],
  [400, 'InvalidAccessKeyId.Inactive', UpstreamAuthFailedError, PresenceErrorCode.UpstreamAuthFailed],
  [400, 'InvalidSecurityToken.Expired', UpstreamAuthFailedError, PresenceErrorCode.UpstreamAuthFailed],
  [400, 'InvalidTimeStamp.Expired', UpstreamAuthFailedError, PresenceErrorCode.UpstreamAuthFailed],
  [403, 'Forbidden.RAM', UpstreamAuthFailedError, PresenceErrorCode.UpstreamAuthFailed],
  [400, 'IncompleteSignature', UpstreamAuthFailedError, PresenceErrorCode.UpstreamAuthFailed],
  [400, 'InvalidVersion', UpstreamAuthFailedError, PresenceErrorCode.UpstreamAuthFailed],
  [400, 'SignatureNonceUsed', UpstreamUnavailableError, PresenceErrorCode.UpstreamUnavailable],
];

describe('toUpstreamError', () => {
  describe('Maps every documented upstream code', () => {
    const rows = documented.map(([status, code, errorClass, graphqlCode]) => ({ status, code, errorClass, graphqlCode, className: errorClass.name }));
    it.each(rows)('maps HTTP $status $code to $className ($graphqlCode) and keeps the RequestId', ({ status, code, errorClass, graphqlCode }) => {
      const mapped = toUpstreamError(answerError(status, body(code)), context);

      expect(mapped).toBeInstanceOf(errorClass);
      expect(mapped.code).toBe(graphqlCode);
      expect(mapped.upstream).toEqual({ code, requestId: 'REQ-1234-ABCD' });
      expect(mapped.message).toContain(code);
      expect(mapped.message).toContain('REQ-1234-ABCD');
      expect(mapped.message).toContain('BatchQuerySessionByClientIds');
      expectNoSecrets(mapped);
    });

    it('gives throttling a retry hint of one budget window', () => {
      const mapped = toUpstreamError(answerError(500, body('SystemOverFlow')), context) as UpstreamThrottledError;

      expect(mapped.retryAfterMs).toBe(THROTTLED_RETRY_AFTER_MS);
      expect(mapped.retryable).toBe(true);
    });

    it('names the RAM action the failing call needs when a permission check fails', () => {
      const batch = toUpstreamError(answerError(400, body('PermissionCheckFailed')), context);
      const exact = toUpstreamError(answerError(400, body('PermissionCheckFailed')), { ...context, action: SessionAction.Exact });

      expect(batch.message).toContain('mq:BatchQuerySessionByClientIds');
      expect(exact.message).toContain('mq:MqttInstanceAccess');
    });

    it('tells the operator what to check for a wrong secret', () => {
      const mapped = toUpstreamError(answerError(400, body('SignatureDoesNotMatch')), context);

      expect(mapped.message).toContain('ALIBABA_CLOUD_ACCESS_KEY_SECRET');
    });
  });

  describe('Maps answers without a documented code by their HTTP status', () => {
    it.each([
      { status: 502, errorClass: UpstreamUnavailableError, code: 'HTTP_502', className: 'UpstreamUnavailableError' },
      { status: 503, errorClass: UpstreamUnavailableError, code: 'HTTP_503', className: 'UpstreamUnavailableError' },
      { status: 429, errorClass: UpstreamThrottledError, code: 'HTTP_429', className: 'UpstreamThrottledError' },
      { status: 403, errorClass: UpstreamAuthFailedError, code: 'HTTP_403', className: 'UpstreamAuthFailedError' },
      { status: 400, errorClass: UpstreamRejectedError, code: 'HTTP_400', className: 'UpstreamRejectedError' },
    ])('maps HTTP $status whose body has no Code to $className with upstream code $code', ({ status, errorClass, code }) => {
      // The SDK interpolates the missing Code as the string "undefined".
      const sdkError = answerError(status, { RequestId: 'REQ-NOCODE' });
      expect((sdkError as unknown as { code: string }).code).toBe('undefined');

      const mapped = toUpstreamError(sdkError, context);

      expect(mapped).toBeInstanceOf(errorClass);
      expect(mapped.upstream).toEqual({ code, requestId: 'REQ-NOCODE' });
    });

    it('maps an undocumented 5xx code to unavailable and an undocumented 4xx code to rejected', () => {
      expect(toUpstreamError(answerError(500, body('Some.NewFault')), context)).toBeInstanceOf(UpstreamUnavailableError);
      expect(toUpstreamError(answerError(400, body('Some.NewRule')), context)).toBeInstanceOf(UpstreamRejectedError);
    });

    it('does not echo a code that is not an identifier', () => {
      const mapped = toUpstreamError(answerError(400, body(`bad code ${SECRET}`)), context);

      expect(mapped.upstream?.code).toBe('UnrecognisedCode');
      expectNoSecrets(mapped);
    });
  });

  describe('Maps failures where no answer came', () => {
    it.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'CERT_HAS_EXPIRED'])(
      'maps the socket error %s to unavailable with upstream code network',
      (systemCode) => {
        const mapped = toUpstreamError(socketError(systemCode), context);

        expect(mapped).toBeInstanceOf(UpstreamUnavailableError);
        expect(mapped.code).toBe(PresenceErrorCode.UpstreamUnavailable);
        expect(mapped.upstream).toEqual({ code: NO_ANSWER_CODES.network });
        expect(mapped.message).toContain(systemCode);
        // Not the endpoint: the message reaches callers, a private endpoint's host is the operator's.
        expect(mapped.message).not.toContain('aliyuncs.com');
        expectNoSecrets(mapped);
      },
    );

    it.each(['ReadTimeout(1000).', 'ConnectTimeout: Connect'] as const)('maps an httpx %s timeout to unavailable with upstream code timeout', (kind) => {
      const mapped = toUpstreamError(httpxTimeout(kind), context);

      expect(mapped).toBeInstanceOf(UpstreamUnavailableError);
      expect(mapped.upstream).toEqual({ code: NO_ANSWER_CODES.timeout });
      expectNoSecrets(mapped);
    });

    it('maps an OS-level ETIMEDOUT to upstream code timeout', () => {
      expect(toUpstreamError(socketError('ETIMEDOUT'), context).upstream).toEqual({ code: NO_ANSWER_CODES.timeout });
    });
  });

  describe('Maps everything else without crashing or leaking', () => {
    it('maps a body that is not JSON (a proxy page) to a malformed answer', () => {
      const mapped = toUpstreamError(new SyntaxError(`Unexpected token '<', "<html>${SECRET}" is not valid JSON`), context);

      expect(mapped).toBeInstanceOf(UpstreamUnavailableError);
      expect(mapped.upstream?.code).toBe(NO_ANSWER_CODES.malformed);
      expectNoSecrets(mapped);
    });

    it('shows a RequestId that is not Alibaba\'s UUID only as safe characters, at most 100 of them', () => {
      const hostile = toUpstreamError(answerError(500, body('InternalError', `<script>alert(1)</script>${'x'.repeat(200)}`)), context);
      expect(hostile.upstream?.requestId).toBe(`?script?alert?1???script?${'x'.repeat(75)}`);
      expect(hostile.message).not.toContain('<script>');
      const uuid = '9F3B2A6C-1D4E-4F5A-8B7C-0D1E2F3A4B5C';
      expect(toUpstreamError(answerError(500, body('InternalError', uuid)), context).upstream?.requestId).toBe(uuid);
    });

    it('maps a JSON body that is not an object to a malformed answer', () => {
      expect(toUpstreamError(new Error('The value is not a object'), context).upstream?.code).toBe(NO_ANSWER_CODES.malformed);
    });

    it('maps the SDK refusing to call without credentials to auth failed', () => {
      const mapped = toUpstreamError($tea.newError({ code: 'InvalidCredentials', message: 'Please set up the credentials correctly.' }), context);

      expect(mapped).toBeInstanceOf(UpstreamAuthFailedError);
      expect(mapped.message).toContain('ALIBABA_CLOUD_ACCESS_KEY_ID');
    });

    it('maps the retry wrapper error, whose data holds the signed request, without its data', () => {
      const unretryable = $tea.newUnretryableError(Object.assign(new $tea.Request(), { headers: { Authorization: `ACS3-HMAC-SHA256 Signature=${SECRET}`, 'x-acs-security-token': TOKEN } }));

      const mapped = toUpstreamError(unretryable, context);

      expect(mapped).toBeInstanceOf(UpstreamUnavailableError);
      expect(mapped.upstream?.code).toBe(NO_ANSWER_CODES.unexpected);
      expectNoSecrets(mapped);
    });

    it('maps values that are not errors at all', () => {
      expect(toUpstreamError(undefined, context)).toBeInstanceOf(UpstreamUnavailableError);
      expect(toUpstreamError('boom', context)).toBeInstanceOf(UpstreamUnavailableError);
    });

    it('passes a presence error through unchanged', () => {
      const original = new UpstreamRejectedError('already typed', { code: 'X' });

      expect(toUpstreamError(original, context)).toBe(original);
    });
  });
});
