/**
 * The only reader of `process.env`. Everything else receives the typed, frozen `AppConfig`
 * (tests build one with `buildConfig({...})`). Bad values stop the start with a message naming the
 * variable and the value, so an operator fixes the deployment rather than debugging the service.
 */

export type PresenceSource = 'local' | 'alibaba';

/** Fixed development identity of the local instance: not secrets, printed by `npm run local-instance`. */
export const LOCAL_DEFAULTS = Object.freeze({
  instanceId: 'mqtt-local-dev',
  accessKeyId: 'LTAIlocaldevkey0001',
  accessKeySecret: 'local-dev-secret-not-for-production',
});

export interface LocalInstanceConfig {
  instanceId: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Host the embedded broker and emulator listen on. */
  host: string;
  /** TCP port of the embedded MQTT broker; when taken, a free port is used and said. */
  mqttPort: number;
  /** HTTP port of the OpenAPI emulator; 0 picks a free one. */
  openApiPort: number;
  /** How long BatchQuerySessionByClientIds answers lag the broker, like the cloud's internal cache. */
  batchLagMs: number;
  /** Simulated devices connected at start so a fresh `npm start` has something to show. */
  demoDevices: number;
}

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

export interface PresenceConfig {
  /** Account budgets, calls per rolling second (upstream-api.md: 100 and 500). */
  batchQps: number;
  exactQps: number;
  /** How long a lookup may wait for budget before failing as UPSTREAM_THROTTLED. */
  budgetWaitMs: number;
  /** Distinct Client IDs one GraphQL operation may ask for. */
  maxIdsPerRequest: number;
  /** How long a fetched status is served fresh; 0 disables the cache. */
  cacheTtlMs: number;
  /** How long the last known status may be served, flagged stale, when the upstream fails. */
  staleIfErrorMs: number;
  /** Attempts per upstream call, the first included. */
  retryMaxAttempts: number;
  retryBaseDelayMs: number;
  /** Retries stop once this much time has passed since the first attempt. */
  retryTotalMs: number;
}

export interface AppConfig {
  nodeEnv: string;
  host: string;
  port: number;
  logLevel: string;
  source: PresenceSource;
  /** Instance for queries that name none; for `local` the local instance's id. */
  defaultInstanceId?: string;
  upstream: UpstreamConfig;
  local: LocalInstanceConfig;
  redisUrl?: string;
  /**
   * Replicas sharing the account: while Redis is unreachable each takes 1/N of the budget, so
   * together they still stay within it.
   */
  upstreamReplicas: number;
  presence: PresenceConfig;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Env = process.env): Readonly<AppConfig> {
  const source = oneOf(env, 'PRESENCE_SOURCE', ['local', 'alibaba'] as const, 'local');
  const local = loadLocalInstanceConfig(env);
  const regionId = text(env, 'ALIBABA_CLOUD_REGION_ID');
  const endpoint = url(env, 'ONSMQTT_ENDPOINT');
  const defaultInstanceId = text(env, 'MQTT_INSTANCE_ID') ?? (source === 'local' ? local.instanceId : undefined);
  if (source === 'alibaba' && !regionId && !endpoint) {
    throw new ConfigError('PRESENCE_SOURCE=alibaba needs ALIBABA_CLOUD_REGION_ID (e.g. cn-hangzhou) or ONSMQTT_ENDPOINT');
  }
  const config: AppConfig = {
    nodeEnv: text(env, 'NODE_ENV') ?? 'development',
    host: text(env, 'HOST') ?? '0.0.0.0',
    port: integer(env, 'PORT', 4000, 0, 65535),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    source,
    defaultInstanceId,
    upstream: {
      regionId,
      endpoint,
      connectTimeoutMs: integer(env, 'UPSTREAM_CONNECT_TIMEOUT_MS', 2000, 1, 60000),
      readTimeoutMs: integer(env, 'UPSTREAM_READ_TIMEOUT_MS', 5000, 1, 60000),
      credential: accessKey(env),
    },
    local,
    redisUrl: text(env, 'REDIS_URL'),
    upstreamReplicas: integer(env, 'UPSTREAM_REPLICAS', 2, 1, 1000),
    presence: {
      batchQps: integer(env, 'UPSTREAM_BATCH_QPS', 100, 1, 100000),
      exactQps: integer(env, 'UPSTREAM_EXACT_QPS', 500, 1, 100000),
      budgetWaitMs: integer(env, 'UPSTREAM_BUDGET_WAIT_MS', 2000, 0, 60000),
      maxIdsPerRequest: integer(env, 'MAX_IDS_PER_REQUEST', 100, 1, 10000),
      cacheTtlMs: integer(env, 'PRESENCE_CACHE_TTL_MS', 1000, 0, 3600000),
      staleIfErrorMs: integer(env, 'PRESENCE_STALE_IF_ERROR_MS', 60000, 0, 86400000),
      retryMaxAttempts: integer(env, 'UPSTREAM_RETRY_MAX_ATTEMPTS', 3, 1, 10),
      retryBaseDelayMs: integer(env, 'UPSTREAM_RETRY_BASE_DELAY_MS', 50, 1, 10000),
      retryTotalMs: integer(env, 'UPSTREAM_RETRY_TOTAL_MS', 3000, 0, 60000),
    },
  };
  return deepFreeze(config);
}

export function loadLocalInstanceConfig(env: Env = process.env): LocalInstanceConfig {
  return {
    instanceId: text(env, 'LOCAL_INSTANCE_ID') ?? LOCAL_DEFAULTS.instanceId,
    accessKeyId: text(env, 'LOCAL_ACCESS_KEY_ID') ?? LOCAL_DEFAULTS.accessKeyId,
    accessKeySecret: text(env, 'LOCAL_ACCESS_KEY_SECRET') ?? LOCAL_DEFAULTS.accessKeySecret,
    host: text(env, 'LOCAL_HOST') ?? '127.0.0.1',
    mqttPort: integer(env, 'LOCAL_MQTT_PORT', 1883, 0, 65535),
    openApiPort: integer(env, 'LOCAL_OPENAPI_PORT', 0, 0, 65535),
    batchLagMs: integer(env, 'LOCAL_BATCH_LAG_MS', 1000, 0, 600000),
    demoDevices: integer(env, 'LOCAL_DEMO_DEVICES', 3, 0, 10000),
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

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw)}`);
  }
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}; got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

function url(env: Env, name: string): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL such as https://onsmqtt.cn-hangzhou.aliyuncs.com; got ${JSON.stringify(raw)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`${name} must use http or https; got ${JSON.stringify(raw)}`);
  }
  return raw;
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const child of Object.values(value)) {
    if (child && typeof child === 'object') deepFreeze(child);
  }
  return Object.freeze(value);
}
