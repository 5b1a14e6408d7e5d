import OpenApiUtil from '@alicloud/openapi-util';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { OpenApiFault } from '../../../src/local/openapi-errors';
import { percentEncode, SignatureVerifier, type SignedRequest } from '../../../src/local/openapi-signature';

const key = { accessKeyId: 'LTAItestkey0001', accessKeySecret: 'test-secret' };
const NOW = Date.parse('2024-05-01T12:00:00Z');
const timestamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');

/** A request signed by the SDK's own V3 signer (openapi-util getAuthorization), as `doRequest` builds it. */
function v3Request(overrides: { query?: Record<string, string>; headers?: Record<string, string>; body?: string; secret?: string; at?: number } = {}): SignedRequest {
  const query = overrides.query ?? { InstanceId: 'mqtt-test', 'ClientIdList.1': 'GID_test@@@a b*(c)' };
  const body = overrides.body ?? '';
  const headers: Record<string, string> = {
    host: '127.0.0.1:9000',
    'x-acs-version': '2020-04-20',
    'x-acs-action': 'BatchQuerySessionByClientIds',
    'user-agent': 'test',
    'x-acs-date': timestamp(overrides.at ?? NOW),
    'x-acs-signature-nonce': 'nonce-1',
    accept: 'application/json',
    'x-acs-content-sha256': sha256(body),
    ...overrides.headers,
  };
  headers.Authorization = OpenApiUtil.getAuthorization(
    { pathname: '/', method: 'POST', query, headers } as never,
    'ACS3-HMAC-SHA256',
    headers['x-acs-content-sha256'],
    key.accessKeyId,
    overrides.secret ?? key.accessKeySecret,
  );
  return toSignedRequest(query, headers, body);
}

/** What node:http hands the emulator: lower-case header names. */
function toSignedRequest(query: Record<string, string>, headers: Record<string, string>, body: string): SignedRequest {
  const lower: IncomingHttpHeaders = Object.fromEntries(Object.entries(headers).map(([n, v]) => [n.toLowerCase(), v]));
  const map = new Map(Object.entries(query));
  return { method: 'POST', query: map, params: map, headers: lower, body: Buffer.from(body) };
}

/** A request signed by the SDK's own V1 signer (openapi-util getRPCSignature), as `doRPCRequest` builds it. */
function v1Request(extra: Record<string, string> = {}, secret = key.accessKeySecret): SignedRequest {
  const params: Record<string, string> = {
    Action: 'QuerySessionByClientId', Format: 'json', Version: '2020-04-20', Timestamp: timestamp(NOW), SignatureNonce: 'nonce-v1',
    InstanceId: 'mqtt-test', ClientId: 'GID_test@@@a', SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', AccessKeyId: key.accessKeyId,
    ...extra,
  };
  params.Signature = OpenApiUtil.getRPCSignature(params, 'POST', secret);
  return toSignedRequest(params, { host: '127.0.0.1:9000' }, '');
}

function faultOf(verify: () => unknown): Pick<OpenApiFault, 'status' | 'code'> {
  try {
    verify();
  } catch (error) {
    if (error instanceof OpenApiFault) return { status: error.status, code: error.code };
    throw error;
  }
  throw new Error('verification passed but was expected to fail');
}

describe('SignatureVerifier', () => {
  describe('V3 (ACS3-HMAC-SHA256)', () => {
    it('accepts a request signed by the SDK, reserved characters in values included', () => {
      expect(new SignatureVerifier(key).verify(v3Request(), NOW)).toBe('v3');
    });

    it('accepts a form body whose x-acs-content-sha256 and content-type are signed', () => {
      const body = 'InstanceId=mqtt-test';
      const request = v3Request({ body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(new SignatureVerifier(key).verify(request, NOW)).toBe('v3');
    });

    it('refuses a query changed after signing with SignatureDoesNotMatch', () => {
      const request = v3Request();
      (request.query as Map<string, string>).set('InstanceId', 'mqtt-other');
      expect(faultOf(() => new SignatureVerifier(key).verify(request, NOW))).toEqual({ status: 400, code: 'SignatureDoesNotMatch' });
    });

    it('refuses a body that does not hash to x-acs-content-sha256', () => {
      const request = { ...v3Request(), body: Buffer.from('tampered') };
      expect(faultOf(() => new SignatureVerifier(key).verify(request, NOW))).toEqual({ status: 400, code: 'SignatureDoesNotMatch' });
    });

    it('refuses an x-acs-* header that is not signed', () => {
      const request = v3Request();
      request.headers['x-acs-extra'] = 'sneaked in';
      expect(faultOf(() => new SignatureVerifier(key).verify(request, NOW))).toEqual({ status: 400, code: 'IncompleteSignature' });
    });

    it('refuses a wrong secret, an unknown AccessKey ID and a date more than 15 minutes off', () => {
      expect(faultOf(() => new SignatureVerifier(key).verify(v3Request({ secret: 'wrong' }), NOW)).code).toBe('SignatureDoesNotMatch');
      expect(faultOf(() => new SignatureVerifier({ ...key, accessKeyId: 'LTAIother' }).verify(v3Request(), NOW))).toEqual({
        status: 404,
        code: 'InvalidAccessKeyId.NotFound',
      });
      expect(faultOf(() => new SignatureVerifier(key).verify(v3Request({ at: NOW - 15 * 60_000 - 1000 }), NOW)).code).toBe('InvalidTimeStamp.Expired');
    });
  });

  describe('V1 (HMAC-SHA1)', () => {
    it('accepts a request signed by the SDK and refuses a wrong secret', () => {
      expect(new SignatureVerifier(key).verify(v1Request(), NOW)).toBe('v1');
      expect(faultOf(() => new SignatureVerifier(key).verify(v1Request({ SignatureNonce: 'n2' }, 'wrong'), NOW)).code).toBe('SignatureDoesNotMatch');
    });

    it('refuses another signature method', () => {
      expect(faultOf(() => new SignatureVerifier(key).verify(v1Request({ SignatureMethod: 'HMAC-SHA256' }), NOW)).code).toBe('IncompleteSignature');
    });
  });

  describe('nonces', () => {
    it('refuses a nonce seen in the last 15 minutes with SignatureNonceUsed, and accepts it again after', () => {
      const verifier = new SignatureVerifier(key);
      verifier.verify(v1Request(), NOW);
      expect(faultOf(() => verifier.verify(v1Request(), NOW))).toEqual({ status: 400, code: 'SignatureNonceUsed' });
      const later = NOW + 15 * 60_000 + 1;
      expect(verifier.verify(v1Request({ Timestamp: timestamp(later) }), later)).toBe('v1');
    });

    it('does not let a request with a bad signature use up a nonce', () => {
      const verifier = new SignatureVerifier(key);
      faultOf(() => verifier.verify(v1Request({}, 'wrong'), NOW));
      expect(verifier.verify(v1Request(), NOW)).toBe('v1');
    });
  });

  it('percent-encodes as RFC 3986 with !\'()* escaped and ~ kept', () => {
    expect(percentEncode("a b!'()*~/+")).toBe('a%20b%21%27%28%29%2A~%2F%2B');
  });
});
