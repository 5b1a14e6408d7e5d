/**
 * The only reader of `process.env`: `loadConfig` reads it once and hands each concern's part its
 * variables (upstream, local instance, presence, Redis, web, security); everything else receives the
 * typed, frozen `AppConfig` (tests build one with `loadConfig({...})`). Bad values stop the start
 * with a message naming the variable and the value, so an operator fixes the deployment rather than
 * debugging the service.
 */
import { ConfigError, deepFreeze, flag, integer, oneOf, text, type Env } from './env';
import { instanceCatalogue, type InstanceCatalogue } from './instances';
import { localInstancesConfig, type LocalInstancesConfig } from './local-instances';
import { localInstanceConfig, type LocalInstanceConfig } from './local';
import { presenceConfig, subscriptionConfig, type PresenceConfig, type SubscriptionConfig } from './presence';
import { redisSettings, type RedisSettings } from './redis';
import { securityConfig, type SecurityConfig } from './security';
import { statusNoticesConfig, type StatusNoticesConfig } from './status-notices';
import { upstreamConfig, type PresenceSource, type UpstreamConfig } from './upstream';
import { listenHost, webConfig, type WebConfig } from './web';

export { ConfigError, type Env } from './env';
export type { ApiKeyConfig, AuthMode, JwtConfig } from './auth';
export type { AccountConfig, InstanceCatalogue, InstanceConfig, InstanceStatusNotices } from './instances';
export type { LocalAccountConfig, LocalInstancesConfig } from './local-instances';
export { LOCAL_DEFAULTS, LOCAL_MQTT_FALLBACK_PORT, type LocalInstanceConfig } from './local';
export type { PresenceConfig, SubscriptionConfig } from './presence';
export type { CostLimits, SecurityConfig } from './security';
export type { StatusNoticesConfig } from './status-notices';
export type { AccessKeyCredential, CredentialSourceConfig, CredentialSourceName, CredentialsConfig, PresenceSource, UpstreamConfig } from './upstream';
export type { OpsListener, WebConfig } from './web';

export interface AppConfig extends RedisSettings {
  nodeEnv: string;
  host: string;
  port: number;
  logLevel: string;
  /** LOG_FORMAT: JSON lines, pretty lines, or pretty only when stdout is a terminal. */
  logFormat: 'auto' | 'json' | 'pretty';
  source: PresenceSource;
  /** Instance for queries that name none; for `local` the local instance's id. */
  defaultInstanceId?: string;
  upstream: UpstreamConfig;
  local: LocalInstanceConfig;
  presence: PresenceConfig;
  subscriptions: SubscriptionConfig;
  web: WebConfig;
  security: SecurityConfig;
  statusNotices: StatusNoticesConfig;
  /**
   * COMPILED_EXECUTION: hot query operations run as graphql-jit code behind Apollo (graphql/compiled-
   * execution.ts); off, graphql-js runs every operation. The answers are the same either way.
   */
  compiledExecution: boolean;
  /** INSTANCES_FILE: accounts and instances (docs/instances.md); undefined: the single-instance variables. */
  instances?: InstanceCatalogue;
}

export function loadConfig(env: Env = process.env): Readonly<AppConfig> {
  const source = oneOf(env, 'PRESENCE_SOURCE', ['local', 'alibaba'] as const, 'local');
  const local = localInstanceConfig(env);
  const catalogued = text(env, 'INSTANCES_FILE') !== undefined;
  const upstream = upstreamConfig(env, source, { catalogued });
  const nodeEnv = text(env, 'NODE_ENV') ?? 'development';
  const host = listenHost(env, nodeEnv);
  const port = integer(env, 'PORT', 4000, 0, 65535);
  const security = securityConfig(env, nodeEnv, source);
  const config: AppConfig = {
    nodeEnv,
    host,
    port,
    logLevel: logLevel(env),
    logFormat: logFormat(env),
    source,
    defaultInstanceId: text(env, 'MQTT_INSTANCE_ID') ?? (source === 'local' ? local.instanceId : undefined),
    upstream,
    local,
    ...redisSettings(env),
    presence: presenceConfig(env),
    subscriptions: subscriptionConfig(env),
    web: webConfig(env, { nodeEnv, host, port, anonymous: security.authMode === 'none' }),
    security,
    statusNotices: statusNoticesConfig(env, source, local.noticesUrl, catalogued),
    compiledExecution: flag(env, 'COMPILED_EXECUTION', true),
  };
  if (catalogued) config.instances = catalogue(env, config);
  assertNoticesShared(config);
  return deepFreeze(config);
}

/**
 * INSTANCES_FILE, and what it settles instead of the single-instance variables: each instance's
 * endpoint and account, so ONSMQTT_ENDPOINT and ALIBABA_CLOUD_REGION_ID would be ignored (refused);
 * MQTT_INSTANCE_ID, the default for queries naming none, must be one of its instances.
 */
function catalogue(env: Env, config: AppConfig): InstanceCatalogue {
  if (config.source !== 'alibaba') throw new ConfigError('INSTANCES_FILE needs PRESENCE_SOURCE=alibaba: the local instance is one instance (point a catalogue at local instances started with npm run local-instance)');
  for (const name of ['ONSMQTT_ENDPOINT', 'ALIBABA_CLOUD_REGION_ID']) {
    if (text(env, name) !== undefined) throw new ConfigError(`${name} is set but INSTANCES_FILE names each instance's endpoint or regionId: unset ${name}`);
  }
  const instances = instanceCatalogue(env, { batchQps: config.presence.batchQps, exactQps: config.presence.exactQps, chain: config.upstream.credentials })!;
  // Notices are consumed for the instances carrying statusNotices (STATUS_NOTICES=off: for none).
  const noticed = Object.values(instances.instances).some((instance) => instance.statusNotices);
  if (config.statusNotices.enabled && !noticed) {
    if (text(env, 'STATUS_NOTICES') === 'on') throw new ConfigError(`STATUS_NOTICES=on but no instance of INSTANCES_FILE ${instances.file} has statusNotices { url, groups }: add them to an instance, or unset STATUS_NOTICES`);
    config.statusNotices = { ...config.statusNotices, enabled: false };
  }
  if (config.defaultInstanceId !== undefined && !(config.defaultInstanceId in instances.instances)) {
    throw new ConfigError(`MQTT_INSTANCE_ID=${config.defaultInstanceId} is not in INSTANCES_FILE ${instances.file}: the default instance must be one of its instances`);
  }
  return instances;
}

/**
 * Replicas consuming the cloud's notices are competing consumers: each gets some of the notices, so
 * without one shared table each would answer from a part of them. The local instance is one per
 * process, so only the cloud (or a shared local instance reached as `alibaba`) needs Redis.
 */
function assertNoticesShared(config: AppConfig): void {
  const { statusNotices } = config;
  if (statusNotices.enabled && config.source === 'alibaba' && !config.defaultInstanceId && !config.instances) {
    throw new ConfigError('Status notices need MQTT_INSTANCE_ID: the instance whose STATUS queue is consumed, and the instance the notices are about');
  }
  if (statusNotices.enabled && config.source === 'alibaba' && config.upstreamReplicas > 1 && !config.redisUrl) {
    throw new ConfigError(
      `Status notices with UPSTREAM_REPLICAS=${config.upstreamReplicas} need REDIS_URL: replicas share the notices as competing consumers, so they must share one presence table; set REDIS_URL, or UPSTREAM_REPLICAS=1 for a single replica`,
    );
  }
}

/**
 * The local instance's part alone, for `npm run local-instance` and `npm run devices`: they run
 * beside replicas whose other settings (authentication, say) are not theirs to check.
 */
export function loadLocalInstanceConfig(env: Env = process.env): LocalInstanceConfig & Pick<AppConfig, 'logLevel' | 'logFormat'> {
  return { ...localInstanceConfig(env), logLevel: logLevel(env), logFormat: logFormat(env) };
}

function logLevel(env: Env): string {
  return oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info');
}

function logFormat(env: Env): AppConfig['logFormat'] {
  return oneOf(env, 'LOG_FORMAT', ['auto', 'json', 'pretty'] as const, 'auto');
}

/** `npm run local-instance` with INSTANCES_FILE: a local instance for each instance of the catalogue (local-instances.ts). */
export function loadLocalInstancesConfig(env: Env = process.env): LocalInstancesConfig | undefined {
  return localInstancesConfig(env, localInstanceConfig(env));
}
