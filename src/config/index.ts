/**
 * The only reader of `process.env`: `loadConfig` reads it once and hands each concern's part its
 * variables (upstream, local instance, presence, Redis, web, security); everything else receives the
 * typed, frozen `AppConfig` (tests build one with `loadConfig({...})`). Bad values stop the start
 * with a message naming the variable and the value, so an operator fixes the deployment rather than
 * debugging the service.
 */
import { ConfigError, deepFreeze, integer, oneOf, text, type Env } from './env';
import { localInstanceConfig, type LocalInstanceConfig } from './local';
import { presenceConfig, subscriptionConfig, type PresenceConfig, type SubscriptionConfig } from './presence';
import { redisSettings, type RedisSettings } from './redis';
import { securityConfig, type SecurityConfig } from './security';
import { statusNoticesConfig, type StatusNoticesConfig } from './status-notices';
import { upstreamConfig, type PresenceSource, type UpstreamConfig } from './upstream';
import { listenHost, webConfig, type WebConfig } from './web';

export { ConfigError, type Env } from './env';
export type { ApiKeyConfig, AuthMode, JwtConfig } from './auth';
export { LOCAL_DEFAULTS, type LocalInstanceConfig } from './local';
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
}

export function loadConfig(env: Env = process.env): Readonly<AppConfig> {
  const source = oneOf(env, 'PRESENCE_SOURCE', ['local', 'alibaba'] as const, 'local');
  const local = localInstanceConfig(env);
  const upstream = upstreamConfig(env, source);
  const nodeEnv = text(env, 'NODE_ENV') ?? 'development';
  const host = listenHost(env, nodeEnv);
  const port = integer(env, 'PORT', 4000, 0, 65535);
  const security = securityConfig(env, nodeEnv, source);
  const config: AppConfig = {
    nodeEnv,
    host,
    port,
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    source,
    defaultInstanceId: text(env, 'MQTT_INSTANCE_ID') ?? (source === 'local' ? local.instanceId : undefined),
    upstream,
    local,
    ...redisSettings(env),
    presence: presenceConfig(env),
    subscriptions: subscriptionConfig(env),
    web: webConfig(env, { nodeEnv, host, port, anonymous: security.authMode === 'none' }),
    security,
    statusNotices: statusNoticesConfig(env, source, local.noticesUrl),
  };
  assertNoticesShared(config);
  return deepFreeze(config);
}

/**
 * Replicas consuming the cloud's notices are competing consumers: each gets some of the notices, so
 * without one shared table each would answer from a part of them. The local instance is one per
 * process, so only the cloud (or a shared local instance reached as `alibaba`) needs Redis.
 */
function assertNoticesShared(config: AppConfig): void {
  const { statusNotices } = config;
  if (statusNotices.enabled && config.source === 'alibaba' && !config.defaultInstanceId) {
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
export function loadLocalInstanceConfig(env: Env = process.env): LocalInstanceConfig {
  return localInstanceConfig(env);
}
