import OpenApiClient, { Config as OpenApiConfig, OpenApiRequest, Params } from '@alicloud/openapi-client';
import Credential from '@alicloud/credentials';
import { RuntimeOptions } from '@alicloud/tea-util';
import { ConfigError } from '../config';
import type { SessionAction } from '../presence/session-api';
import type { AccessKeyCredential } from '../config/upstream';
import { toUpstreamError, type UpstreamCallContext } from './upstream-errors';

/**
 * The signed-call core for the onsmqtt OpenAPI (version 2020-04-20), built on the same
 * `@alicloud/openapi-client` the generated `@alicloud/onsmqtt20200420` SDK wraps (that package is not in
 * the registry here; upstream-api.md, "Calling it from Node.js"). One client per process, shared by
 * every request; it holds no per-call state.
 */

/** What signs each call: a fixed AccessKey, or the renewing credentials of a source (credentials/). */
export interface CredentialLookup {
  /** The key to sign with now (with its STS token when temporary); rejects with a typed error naming the source. */
  get(): Promise<AccessKeyCredential>;
  /** For `x-acs-credentials-provider`, as the SDK sends it: the source's name, never a secret. */
  readonly source: string;
}

export interface OpenApiClientOptions {
  /** Full endpoint URL (`ONSMQTT_ENDPOINT`): `http(s)://host[:port]`, path `/` only. */
  endpoint?: string;
  /** Region for the public endpoint `onsmqtt.<regionId>.aliyuncs.com` when `endpoint` is unset. */
  regionId?: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** Asked before every call: the SDK signs with whatever it answers then. */
  credentials: CredentialLookup;
}

/** What the action modules need: a signed call that either answers a JSON object or throws a typed error. */
export interface OnsMqttClient {
  /** The endpoint as a URL, for the operator's start log; never holds credentials. */
  readonly endpoint: string;
  call(action: SessionAction, params: Params, query: Record<string, string>): Promise<Record<string, unknown>>;
}

/** `ONSMQTT_ENDPOINT` or the region's public endpoint, as the SDK wants it: host[:port] and protocol. */
export function resolveEndpoint(options: Pick<OpenApiClientOptions, 'endpoint' | 'regionId'>): { host: string; protocol: 'http' | 'https' } {
  if (options.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new ConfigError(`ONSMQTT_ENDPOINT must be a URL such as https://onsmqtt.cn-hangzhou.aliyuncs.com; got ${JSON.stringify(options.endpoint)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError(`ONSMQTT_ENDPOINT must use http or https; got ${JSON.stringify(url.protocol)}`);
    }
    // RPC calls always go to `/` (Params.pathname); user info in a URL would leak into logs.
    if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
      throw new ConfigError('ONSMQTT_ENDPOINT must be only scheme, host and port (e.g. http://127.0.0.1:9000)');
    }
    return { host: url.host, protocol: url.protocol === 'http:' ? 'http' : 'https' };
  }
  if (options.regionId !== undefined) {
    if (!/^[a-z0-9-]{2,40}$/.test(options.regionId)) {
      throw new ConfigError(`ALIBABA_CLOUD_REGION_ID must look like cn-hangzhou; got ${JSON.stringify(options.regionId)}`);
    }
    return { host: `onsmqtt.${options.regionId}.aliyuncs.com`, protocol: 'https' };
  }
  throw new ConfigError('the onsmqtt client needs ALIBABA_CLOUD_REGION_ID (e.g. cn-hangzhou) or ONSMQTT_ENDPOINT');
}

export function createOpenApiClient(options: OpenApiClientOptions): OnsMqttClient {
  const { host, protocol } = resolveEndpoint(options);
  const credential = sdkCredential(options.credentials);
  const sdk = new OpenApiClient(
    new OpenApiConfig({
      endpoint: host,
      // Config.protocol wins over Params.protocol in the SDK (`defaultString(this._protocol, params.protocol)`).
      protocol,
      regionId: options.regionId,
      // httpx applies connectTimeout as the socket's idle timeout too, so the response must also start
      // within min(connectTimeoutMs, readTimeoutMs).
      connectTimeout: options.connectTimeoutMs,
      readTimeout: options.readTimeoutMs,
      userAgent: 'presence-graph',
      // Signature: the SDK default, ACS3-HMAC-SHA256 (V3); `signatureAlgorithm: 'v2'` would select V1.
      credential,
    }),
  );
  // Retries are owned by presence/ in one place; the SDK retries only when autoretry is set.
  const runtime = new RuntimeOptions({ autoretry: false });
  const endpoint = `${protocol}://${host}`;

  return {
    endpoint,
    async call(action, params, query) {
      const context: UpstreamCallContext = { action };
      try {
        const answer = await sdk.callApi(params, new OpenApiRequest({ query }), runtime);
        // bodyType 'json' makes the SDK answer { body: <object>, headers, statusCode }.
        return answer.body as Record<string, unknown>;
      } catch (error) {
        throw toUpstreamError(error, context);
      }
    },
  };
}

/** A fixed AccessKey as a CredentialLookup: the local instance's dev identity, and tests. */
export function fixedCredentials(key: AccessKeyCredential, source = 'static'): CredentialLookup {
  return { source, get: async () => key };
}

/**
 * The SDK asks `credential.getCredential()` inside every call (openapi-client's `callApi` → `doRPCRequest`)
 * and signs with `x-acs-security-token` when the model has a token. A provider object in the second
 * argument of `Credential` (client.js, `isCredentialsProviderClass`) is asked through `getCredentials()`:
 * ours answers the lookup's current key, and its typed errors pass through the SDK untouched, so
 * `toUpstreamError` keeps them (they name the source, never the secret).
 */
function sdkCredential(lookup: CredentialLookup): Credential {
  const provider = {
    getProviderName: () => lookup.source,
    getCredentials: async () => ({ ...(await lookup.get()), providerName: lookup.source }),
  };
  return new Credential(null, provider);
}

/**
 * The Params the generated @alicloud/onsmqtt20200420 client passes for an action (product onsmqtt,
 * version 2020-04-20, RPC style). `protocol` stays 'HTTPS' as generated: the client's
 * Config.protocol (from the endpoint URL) takes precedence in the SDK, so http endpoints still work.
 */
export function onsMqttParams(action: string): Params {
  return new Params({
    action,
    version: '2020-04-20',
    protocol: 'HTTPS',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
}
