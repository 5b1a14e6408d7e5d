import OpenApiClient, { Config as OpenApiConfig, OpenApiRequest, Params } from '@alicloud/openapi-client';
import Credential, { Config as CredentialConfig, type CredentialModel } from '@alicloud/credentials';
import { RuntimeOptions } from '@alicloud/tea-util';
import { ConfigError } from '../config';
import type { SessionAction } from '../presence/session-api';
import { credentialsUnavailable, toUpstreamError, type CredentialSource, type UpstreamCallContext } from './upstream-errors';

/**
 * The signed-call core for the onsmqtt OpenAPI (version 2020-04-20), built on the same
 * `@alicloud/openapi-client` the generated `@alicloud/onsmqtt20200420` SDK wraps (that package is not in
 * the registry here; upstream-api.md, "Calling it from Node.js"). One client per process, shared by
 * every request; it holds no per-call state.
 */

/** A fixed AccessKey (the local instance's dev identity, or an operator's explicit choice). */
export interface ExplicitCredential {
  accessKeyId: string;
  accessKeySecret: string;
  /** Set for STS: the SDK then signs with `x-acs-security-token`. */
  securityToken?: string;
}

export interface OpenApiClientOptions {
  /** Full endpoint URL (`ONSMQTT_ENDPOINT`): `http(s)://host[:port]`, path `/` only. */
  endpoint?: string;
  /** Region for the public endpoint `onsmqtt.<regionId>.aliyuncs.com` when `endpoint` is unset. */
  regionId?: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** Absent: `@alicloud/credentials`' default chain (env, OIDC, profiles, ECS RAM role, URI). */
  credential?: ExplicitCredential;
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
  const credential = new TaggedCredential(options.credential);
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

/**
 * Checks at start that credentials can be resolved (explicit ones, or the default chain), so a
 * misconfigured deployment stops with a clear message rather than failing every lookup. The error
 * names the sources to configure, never a value.
 */
export async function assertCredentialsAvailable(credential?: ExplicitCredential): Promise<void> {
  await new TaggedCredential(credential).getCredential();
}

/**
 * The current AccessKey (with its STS token when temporary), resolved as the OpenAPI calls resolve
 * theirs: for the status-notice login, which signs with the same credentials. Asked before every
 * login, so a rotated or renewed key is picked up. Never logged.
 */
export function credentialProvider(credential?: ExplicitCredential): () => Promise<{ accessKeyId: string; accessKeySecret: string; securityToken?: string }> {
  const source = new TaggedCredential(credential);
  return async () => {
    const model = await source.getCredential();
    return model.securityToken
      ? { accessKeyId: model.accessKeyId!, accessKeySecret: model.accessKeySecret!, securityToken: model.securityToken }
      : { accessKeyId: model.accessKeyId!, accessKeySecret: model.accessKeySecret! };
  };
}

/**
 * The SDK resolves the credential inside every call; a failure there surfaces as a bare `Error` whose
 * message may quote a profile file or a credentials-URI answer. Tagging it here keeps it apart from a
 * malformed upstream answer and keeps that text out of our errors.
 */
class TaggedCredential extends Credential {
  private readonly source: CredentialSource;

  constructor(explicit: ExplicitCredential | undefined) {
    const source: CredentialSource = explicit ? 'explicit' : 'default-chain';
    // Checked here: the SDK's static provider would silently fall back to env vars for an empty value.
    if (explicit && (!explicit.accessKeyId || !explicit.accessKeySecret)) throw credentialsUnavailable(source);
    super(
      explicit
        ? new CredentialConfig({
            type: explicit.securityToken ? 'sts' : 'access_key',
            accessKeyId: explicit.accessKeyId,
            accessKeySecret: explicit.accessKeySecret,
            securityToken: explicit.securityToken,
          })
        : null,
    );
    this.source = source;
  }

  override async getCredential(): Promise<CredentialModel> {
    let model: CredentialModel;
    try {
      model = await super.getCredential();
    } catch {
      throw credentialsUnavailable(this.source);
    }
    if (!model.accessKeyId || !model.accessKeySecret) throw credentialsUnavailable(this.source);
    return model;
  }
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
