/** Alibaba Cloud's OpenAPI: where the session actions are called, with which credentials, how patiently. */
import { ConfigError, flag, integer, oneOf, parsedUrl, text, url, type Env } from './env';

export type PresenceSource = 'local' | 'alibaba';

/** An AccessKey pair (with an STS token when temporary). Never logged. */
export interface AccessKeyCredential {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** ALIBABA_CLOUD_CREDENTIALS_SOURCE: one source of `@alicloud/credentials`, or its chain. */
export const CREDENTIAL_SOURCES = ['env', 'uri', 'oidc', 'ecs-ram-role', 'profile', 'chain'] as const;
export type CredentialSourceName = (typeof CREDENTIAL_SOURCES)[number];

/** One source, with what it needs; every field here is read from the environment by this file only. */
export type CredentialSourceConfig =
  | ({ source: 'env' } & AccessKeyCredential)
  | { source: 'uri'; uri: string }
  | {
      source: 'oidc';
      roleArn: string;
      oidcProviderArn: string;
      oidcTokenFile: string;
      roleSessionName: string;
      /** Host[:port] of STS; the SDK always speaks HTTPS to it (providers/oidc_role_arn.js). */
      stsEndpoint: string;
    }
  | { source: 'ecs-ram-role'; roleName?: string; imdsV1Disabled: boolean }
  | { source: 'profile'; profileName?: string; cliProfileDisabled: boolean; credentialsFile?: string };

export interface CredentialsConfig {
  /** What ALIBABA_CLOUD_CREDENTIALS_SOURCE asked for. */
  requested: CredentialSourceName;
  /**
   * The sources to try at start, in `@alicloud/credentials`' default-chain order (providers/default.js:
   * env, OIDC, CLI profile and credentials file, ECS RAM role, credentials URI), only those configured;
   * the first that answers is used for the life of the process. One entry unless `requested` is chain.
   */
  candidates: readonly CredentialSourceConfig[];
}

export interface UpstreamConfig {
  /** `onsmqtt.<region>.aliyuncs.com` unless `endpoint` is set. */
  regionId?: string;
  /** Full endpoint URL (`http://127.0.0.1:9000`, a VPC host). */
  endpoint?: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  credentials: CredentialsConfig;
}

/** `catalogued`: INSTANCES_FILE names each instance's endpoint, so neither variable is needed. */
export function upstreamConfig(env: Env, source: PresenceSource, options: { catalogued?: boolean } = {}): UpstreamConfig {
  const regionId = text(env, 'ALIBABA_CLOUD_REGION_ID');
  const endpoint = url(env, 'ONSMQTT_ENDPOINT', 'https://onsmqtt.cn-hangzhou.aliyuncs.com');
  if (source === 'alibaba' && !regionId && !endpoint && !options.catalogued) {
    throw new ConfigError('PRESENCE_SOURCE=alibaba needs ALIBABA_CLOUD_REGION_ID (e.g. cn-hangzhou) or ONSMQTT_ENDPOINT');
  }
  return {
    regionId,
    endpoint,
    connectTimeoutMs: integer(env, 'UPSTREAM_CONNECT_TIMEOUT_MS', 2000, 1, 60000),
    readTimeoutMs: integer(env, 'UPSTREAM_READ_TIMEOUT_MS', 5000, 1, 60000),
    credentials: credentialsConfig(env),
  };
}

export function credentialsConfig(env: Env): CredentialsConfig {
  const requested = oneOf(env, 'ALIBABA_CLOUD_CREDENTIALS_SOURCE', CREDENTIAL_SOURCES, 'chain');
  const ecsDisabled = flag(env, 'ALIBABA_CLOUD_ECS_METADATA_DISABLED', false);
  if (requested !== 'chain') {
    const only = sourceConfig(env, requested);
    if (!only) throw new ConfigError(`ALIBABA_CLOUD_CREDENTIALS_SOURCE=${requested} needs ${NEEDS[requested]}`);
    if (requested === 'ecs-ram-role' && ecsDisabled) {
      throw new ConfigError('ALIBABA_CLOUD_CREDENTIALS_SOURCE=ecs-ram-role contradicts ALIBABA_CLOUD_ECS_METADATA_DISABLED=true');
    }
    return { requested, candidates: [only] };
  }
  const order: Array<Exclude<CredentialSourceName, 'chain'>> = ['env', 'oidc', 'profile', ...(ecsDisabled ? [] : (['ecs-ram-role'] as const)), 'uri'];
  const candidates = order.map((name) => sourceConfig(env, name)).filter((entry): entry is CredentialSourceConfig => entry !== undefined);
  return { requested, candidates };
}

const NEEDS: Record<Exclude<CredentialSourceName, 'chain'>, string> = {
  env: 'ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS)',
  uri: 'ALIBABA_CLOUD_CREDENTIALS_URI',
  oidc: 'ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE (RRSA sets them in the pod)',
  'ecs-ram-role': 'the instance metadata service (ALIBABA_CLOUD_ECS_METADATA names the role, or it is asked)',
  profile: 'a CLI profile (~/.aliyun/config.json, ALIBABA_CLOUD_PROFILE) or a credentials file (~/.alibabacloud/credentials)',
};

/** The source's config when its variables are there (undefined when not configured at all). */
function sourceConfig(env: Env, name: Exclude<CredentialSourceName, 'chain'>): CredentialSourceConfig | undefined {
  switch (name) {
    case 'env': {
      const key = accessKey(env);
      return key && { source: 'env', ...key };
    }
    case 'uri': {
      const uri = urlOf(env, 'ALIBABA_CLOUD_CREDENTIALS_URI', 'http://127.0.0.1:8080/credentials');
      return uri === undefined ? undefined : { source: 'uri', uri };
    }
    case 'oidc':
      return oidc(env);
    case 'ecs-ram-role':
      return { source: 'ecs-ram-role', roleName: text(env, 'ALIBABA_CLOUD_ECS_METADATA'), imdsV1Disabled: flag(env, 'ALIBABA_CLOUD_IMDSV1_DISABLED', false) };
    case 'profile': {
      const cliProfileDisabled = flag(env, 'ALIBABA_CLOUD_CLI_PROFILE_DISABLED', false);
      return { source: 'profile', profileName: text(env, 'ALIBABA_CLOUD_PROFILE'), cliProfileDisabled, credentialsFile: text(env, 'ALIBABA_CLOUD_CREDENTIALS_FILE') };
    }
    default:
      return assertNever(name);
  }
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

const OIDC_VARIABLES = ['ALIBABA_CLOUD_ROLE_ARN', 'ALIBABA_CLOUD_OIDC_PROVIDER_ARN', 'ALIBABA_CLOUD_OIDC_TOKEN_FILE'] as const;

/**
 * RRSA: ACK injects the three variables into the pod. The STS endpoint follows the SDK's own rule
 * (providers/oidc_role_arn.js: `sts-vpc.<region>` with ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED, else
 * `sts.<region>`, else `sts.aliyuncs.com`), and ALIBABA_CLOUD_STS_ENDPOINT (ours; the SDK reads no
 * such variable) overrides it: a private endpoint, or a stand-in.
 */
function oidc(env: Env): CredentialSourceConfig | undefined {
  const set = OIDC_VARIABLES.filter((name) => text(env, name) !== undefined);
  if (set.length === 0) return undefined;
  if (set.length < OIDC_VARIABLES.length) {
    throw new ConfigError(`${OIDC_VARIABLES.join(', ')} must be set together (RRSA); missing ${OIDC_VARIABLES.filter((name) => !set.includes(name)).join(', ')}`);
  }
  const region = text(env, 'ALIBABA_CLOUD_STS_REGION');
  if (region !== undefined && !/^[a-z0-9-]{2,40}$/.test(region)) {
    throw new ConfigError(`ALIBABA_CLOUD_STS_REGION must look like cn-hangzhou; got ${JSON.stringify(region)}`);
  }
  const vpc = flag(env, 'ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED', false);
  const fallback = region ? `${vpc ? 'sts-vpc' : 'sts'}.${region}.aliyuncs.com` : 'sts.aliyuncs.com';
  return {
    source: 'oidc',
    roleArn: text(env, 'ALIBABA_CLOUD_ROLE_ARN')!,
    oidcProviderArn: text(env, 'ALIBABA_CLOUD_OIDC_PROVIDER_ARN')!,
    oidcTokenFile: text(env, 'ALIBABA_CLOUD_OIDC_TOKEN_FILE')!,
    roleSessionName: text(env, 'ALIBABA_CLOUD_ROLE_SESSION_NAME') ?? 'presence-graph',
    stsEndpoint: stsEndpoint(env) ?? fallback,
  };
}

/** `host[:port]`: the SDK builds `https://<stsEndpoint>/?…` itself, so a scheme or a path is refused. */
function stsEndpoint(env: Env): string | undefined {
  const raw = text(env, 'ALIBABA_CLOUD_STS_ENDPOINT');
  if (raw === undefined) return undefined;
  const parsed = parsedUrl(`https://${raw}`);
  if (!parsed || parsed.host !== raw.toLowerCase() || parsed.username || parsed.password) {
    throw new ConfigError(`ALIBABA_CLOUD_STS_ENDPOINT must be host[:port] such as sts-vpc.cn-hangzhou.aliyuncs.com (always HTTPS); got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/** An http(s) URL, never quoted back (a credentials URI may carry a token in its query). */
function urlOf(env: Env, name: string, example: string): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  const parsed = parsedUrl(raw);
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new ConfigError(`${name} must be an http or https URL such as ${example}; the value given is not (not shown)`);
  }
  return raw;
}

function assertNever(value: never): never {
  throw new Error(`unhandled credential source ${String(value)}`);
}
