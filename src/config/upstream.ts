/** Alibaba Cloud's OpenAPI: where the session actions are called, with which credentials, how patiently. */
import { ConfigError, integer, text, url, type Env } from './env';

export type PresenceSource = 'local' | 'alibaba';

/** An AccessKey pair (with an STS token when temporary). Never logged. */
export interface AccessKeyCredential {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface UpstreamConfig {
  /** `onsmqtt.<region>.aliyuncs.com` unless `endpoint` is set. */
  regionId?: string;
  /** Full endpoint URL (`http://127.0.0.1:9000`, a VPC host). */
  endpoint?: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /**
   * From ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN when set; otherwise absent and the
   * `@alicloud/credentials` default chain finds them (OIDC, CLI profile, ECS RAM role, URI).
   */
  credential?: AccessKeyCredential;
}

export function upstreamConfig(env: Env, source: PresenceSource): UpstreamConfig {
  const regionId = text(env, 'ALIBABA_CLOUD_REGION_ID');
  const endpoint = url(env, 'ONSMQTT_ENDPOINT', 'https://onsmqtt.cn-hangzhou.aliyuncs.com');
  if (source === 'alibaba' && !regionId && !endpoint) {
    throw new ConfigError('PRESENCE_SOURCE=alibaba needs ALIBABA_CLOUD_REGION_ID (e.g. cn-hangzhou) or ONSMQTT_ENDPOINT');
  }
  return {
    regionId,
    endpoint,
    connectTimeoutMs: integer(env, 'UPSTREAM_CONNECT_TIMEOUT_MS', 2000, 1, 60000),
    readTimeoutMs: integer(env, 'UPSTREAM_READ_TIMEOUT_MS', 5000, 1, 60000),
    credential: accessKey(env),
  };
}

function accessKey(env: Env): AccessKeyCredential | undefined {
  const accessKeyId = text(env, 'ALIBABA_CLOUD_ACCESS_KEY_ID');
  const accessKeySecret = text(env, 'ALIBABA_CLOUD_ACCESS_KEY_SECRET');
  if (!accessKeyId && !accessKeySecret) return undefined;
  if (!accessKeyId || !accessKeySecret) {
    throw new ConfigError('ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET must be set together');
  }
  const securityToken = text(env, 'ALIBABA_CLOUD_SECURITY_TOKEN');
  return securityToken ? { accessKeyId, accessKeySecret, securityToken } : { accessKeyId, accessKeySecret };
}
