import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { faults } from './openapi-errors';

/**
 * The API gateway's signature check, written from Alibaba Cloud's signature specs (upstream-api.md,
 * "Wire protocol") rather than from the SDK's signer, so that SDK calls passing here is evidence,
 * not an echo. V3 (ACS3-HMAC-SHA256) is the SDKs' default; V1 (HMAC-SHA1) is what
 * `signatureAlgorithm: 'v2'` selects for RPC calls.
 */
export type SignatureVersion = 'v3' | 'v1' | 'none';

export interface SignedRequest {
  method: string;
  /** Query-string parameters, decoded: V3 signs exactly these. */
  query: ReadonlyMap<string, string>;
  /** Query and form-body parameters together, decoded: V1 signs all of them. */
  params: ReadonlyMap<string, string>;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface AccessKey {
  accessKeyId: string;
  accessKeySecret: string;
}

const V3_ALGORITHM = 'ACS3-HMAC-SHA256';
const V3_AUTHORIZATION = /^(\S+) Credential=([^,]*),\s*SignedHeaders=([^,]*),\s*Signature=(\S*)$/;
/** Headers V3 cannot do without; every `x-acs-*` header sent, and `content-type`, must be signed too. */
const V3_REQUIRED_HEADERS = ['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version'];
const V1_REQUIRED_PARAMS = ['AccessKeyId', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce', 'Timestamp'];
/** ISO 8601 UTC, e.g. 2024-05-01T12:00:00Z (the SDKs send no milliseconds). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
/** Both signatures: a timestamp more than 15 minutes off is expired, and a nonce is single-use for 15 minutes. */
const WINDOW_MS = 15 * 60_000;

export function signatureVersionOf(request: Pick<SignedRequest, 'headers' | 'params'>): SignatureVersion {
  if (request.headers.authorization !== undefined) return 'v3';
  if (request.params.has('Signature')) return 'v1';
  return 'none';
}

/** RFC 3986 percent-encoding as both signatures define it: encodeURIComponent, then `!'()*` too. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** One per emulator: it remembers the nonces seen in the last 15 minutes. */
export class SignatureVerifier {
  private readonly nonces = new Map<string, number>();

  constructor(private readonly key: AccessKey) {}

  /** Returns the signature version, or throws the gateway's `OpenApiFault`. */
  verify(request: SignedRequest, nowMs: number): 'v3' | 'v1' {
    const version = signatureVersionOf(request);
    if (version === 'none') throw faults.incompleteSignature('no Authorization header and no Signature parameter');
    const nonce = version === 'v3' ? this.verifyV3(request, nowMs) : this.verifyV1(request, nowMs);
    // After the signature check, so that a forged request cannot burn someone else's nonce.
    this.useNonce(nonce, nowMs);
    return version;
  }

  private verifyV3(request: SignedRequest, nowMs: number): string {
    const match = V3_AUTHORIZATION.exec(headerValue(request.headers, 'authorization') ?? '');
    if (!match) throw faults.incompleteSignature('Authorization must be "ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…"');
    const [, algorithm, accessKeyId, signedHeaderList, signature] = match;
    if (algorithm !== V3_ALGORITHM) throw faults.incompleteSignature(`unsupported algorithm ${algorithm}; use ${V3_ALGORITHM}`);
    if (accessKeyId !== this.key.accessKeyId) throw faults.accessKeyNotFound();

    const signedHeaders = signedHeaderList.split(';');
    if (signedHeaders.join(';') !== [...new Set(signedHeaders)].sort().join(';') || signedHeaderList !== signedHeaderList.toLowerCase()) {
      throw faults.incompleteSignature('SignedHeaders must be lower-case header names, sorted, without repeats');
    }
    for (const name of V3_REQUIRED_HEADERS) {
      if (headerValue(request.headers, name) === undefined) throw faults.incompleteSignature(`header ${name} is missing`);
    }
    for (const name of Object.keys(request.headers)) {
      const mustSign = name.startsWith('x-acs-') || name === 'host' || name === 'content-type';
      if (mustSign && !signedHeaders.includes(name)) throw faults.incompleteSignature(`header ${name} is not signed`);
    }
    for (const name of signedHeaders) {
      if (headerValue(request.headers, name) === undefined) throw faults.incompleteSignature(`signed header ${name} is missing`);
    }
    checkTimestamp(headerValue(request.headers, 'x-acs-date'), 'x-acs-date', nowMs);
    if (headerValue(request.headers, 'x-acs-content-sha256') !== sha256Hex(request.body)) {
      throw faults.signatureMismatch('x-acs-content-sha256 is not the SHA-256 of the body.');
    }

    const canonicalRequest = [
      request.method,
      '/',
      canonicalQuery(request.query),
      signedHeaders.map((name) => `${name}:${headerValue(request.headers, name)}\n`).join(''),
      signedHeaders.join(';'),
      sha256Hex(request.body),
    ].join('\n');
    const stringToSign = `${V3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
    const expected = createHmac('sha256', this.key.accessKeySecret).update(stringToSign).digest('hex');
    if (!sameText(signature, expected)) throw faults.signatureMismatch(`server string to sign is: ${stringToSign}`);
    return headerValue(request.headers, 'x-acs-signature-nonce')!;
  }

  private verifyV1(request: SignedRequest, nowMs: number): string {
    const { params } = request;
    for (const name of V1_REQUIRED_PARAMS) {
      if (!params.get(name)) throw faults.incompleteSignature(`parameter ${name} is missing`);
    }
    if (params.get('SignatureMethod') !== 'HMAC-SHA1' || params.get('SignatureVersion') !== '1.0') {
      throw faults.incompleteSignature('V1 signatures need SignatureMethod=HMAC-SHA1 and SignatureVersion=1.0');
    }
    if (params.get('AccessKeyId') !== this.key.accessKeyId) throw faults.accessKeyNotFound();
    checkTimestamp(params.get('Timestamp'), 'Timestamp', nowMs);

    const signed = new Map([...params].filter(([name]) => name !== 'Signature'));
    const stringToSign = `${request.method}&${percentEncode('/')}&${percentEncode(canonicalQuery(signed))}`;
    const expected = createHmac('sha1', `${this.key.accessKeySecret}&`).update(stringToSign).digest('base64');
    if (!sameText(params.get('Signature') ?? '', expected)) throw faults.signatureMismatch(`server string to sign is: ${stringToSign}`);
    return params.get('SignatureNonce')!;
  }

  private useNonce(nonce: string, nowMs: number): void {
    for (const [seen, atMs] of this.nonces) {
      if (atMs > nowMs - WINDOW_MS) break; // insertion order is time order: the rest are newer
      this.nonces.delete(seen);
    }
    if (this.nonces.has(nonce)) throw faults.nonceUsed();
    this.nonces.set(nonce, nowMs);
  }
}

/** Parameters sorted by name, `name=value`, both percent-encoded, joined by `&`. */
function canonicalQuery(params: ReadonlyMap<string, string>): string {
  return [...params.keys()]
    .sort()
    .map((name) => `${percentEncode(name)}=${percentEncode(params.get(name)!)}`)
    .join('&');
}

function checkTimestamp(value: string | undefined, name: string, nowMs: number): void {
  const atMs = value !== undefined && TIMESTAMP.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(atMs)) throw faults.timestampFormat(name);
  if (Math.abs(nowMs - atMs) > WINDOW_MS) throw faults.timestampExpired();
}

/** A header's value, trimmed; repeated headers joined by commas. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : (Array.isArray(value) ? value.join(',') : value).trim();
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Constant-time comparison, so response timing does not reveal how much of a signature was right. */
function sameText(actual: string, expected: string): boolean {
  const a = Buffer.from(actual);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
