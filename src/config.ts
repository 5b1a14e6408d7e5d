/**
 * The only reader of `process.env`. Everything else receives the typed, frozen `AppConfig`
 * (tests build one with `buildConfig({...})`). Bad values stop the start with a message naming the
 * variable and the value, so an operator fixes the deployment rather than debugging the service.
 */

import { readFileSync } from 'node:fs';

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
  /** Calls per rolling second the emulator admits before SystemOverFlow, like the account, @default 100 / 500. */
  batchQps?: number;
  exactQps?: number;
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
  /** Consecutive failed upstream calls that open this replica's circuit breaker. */
  breakerFailures: number;
  /** How long an open circuit refuses calls before one probe may go. */
  breakerCoolDownMs: number;
  /**
   * Cross-request packing: while a partial call (fewer than 10 IDs) went out this recently, the next
   * one waits for more IDs; 0 sends partial calls at once (packing off). Unset: 1000 / batchQps.
   */
  partialBatchIntervalMs?: number;
}

export interface SubscriptionConfig {
  /** How often the shared poller asks the upstream about the watched devices (PRESENCE_SOURCE=alibaba). */
  pollIntervalMs: number;
  /** The share of UPSTREAM_BATCH_QPS the poller may use, 0 < share ≤ 1; queries keep the rest. */
  budgetShare: number;
}

export interface WebConfig {
  /** Origins allowed cross-origin (CORS, and the Origin of WebSocket upgrades); empty: same origin only. */
  corsOrigins: readonly string[];
  /** Whether a browser asking for GET /graphql gets the self-hosted GraphiQL. */
  graphiqlEnabled: boolean;
}

export type AuthMode = 'none' | 'apikey' | 'jwt';

/**
 * One API key, known only by its SHA-256. `instances` and `groups` are scope patterns (an exact
 * name, a prefix ending in `*`, or `*`), as `Scope` in common/caller.ts matches them.
 */
export interface ApiKeyConfig {
  /** Who holds the key: in logs, and the caller's fair-share bucket. */
  name: string;
  /** Lower-case hex SHA-256 of the key. */
  sha256: string;
  instances: readonly string[];
  groups: readonly string[];
}

export interface JwtConfig {
  /** The issuer's JWKS endpoint (JWT_JWKS_URL), fetched and cached; or else */
  jwksUrl?: string;
  /** the key set read from JWT_JWKS_FILE at start. */
  jwks?: { keys: readonly object[] };
  issuer: string;
  audience: string;
  /** Claims holding the caller's instance and Group ID patterns. */
  instancesClaim: string;
  groupsClaim: string;
}

/** Checked before an operation runs, so a refused one costs no upstream call. */
export interface CostLimits {
  /** Lexical tokens of one document (parsing stops past it). */
  maxTokens: number;
  /** Nesting of fields, introspection fields aside. */
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  /**
   * Device fields one operation (or one batch of operations) may return: each device entry (each
   * `device` field, each element of a `devices` list, variables and their defaults included, each
   * `_entities` representation, duplicates and aliases counted) times the fields selected on it.
   */
  maxCost: number;
  /** Bytes of one operation's query text, over HTTP (single, batched, GET) and WebSocket: also bounds what APQ stores. */
  maxQueryBytes: number;
  /** Operations one WebSocket connection may run at once (subscriptions, and queries in flight). */
  maxSubscriptionsPerConnection: number;
  /** Open WebSocket connections one caller may hold on this replica. */
  maxConnectionsPerCaller: number;
}

export interface SecurityConfig {
  authMode: AuthMode;
  /** AUTH_MODE=apikey: the known keys (API_KEYS or API_KEYS_FILE). */
  apiKeys: readonly ApiKeyConfig[];
  /** AUTH_MODE=jwt. */
  jwt?: JwtConfig;
  /** Client ID lookups per second one caller may make, in memory per replica; 0 turns the share off. */
  callerLookupsPerSecond: number;
  limits: CostLimits;
  /** Schema introspection, and field suggestions in errors (which would leak the same). */
  introspection: boolean;
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
  /** Prefix of every Redis key this service writes; replicas sharing an account must share it. */
  redisKeyPrefix: string;
  /**
   * Replicas sharing the account: while Redis is unreachable each takes 1/N of the budget, so
   * together they still stay within it.
   */
  upstreamReplicas: number;
  presence: PresenceConfig;
  subscriptions: SubscriptionConfig;
  web: WebConfig;
  security: SecurityConfig;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Env = process.env): Readonly<AppConfig> {
  const source = oneOf(env, 'PRESENCE_SOURCE', ['local', 'alibaba'] as const, 'local');
  const local = loadLocalInstanceConfig(env);
  const regionId = text(env, 'ALIBABA_CLOUD_REGION_ID');
  const endpoint = url(env, 'ONSMQTT_ENDPOINT', 'https://onsmqtt.cn-hangzhou.aliyuncs.com');
  const defaultInstanceId = text(env, 'MQTT_INSTANCE_ID') ?? (source === 'local' ? local.instanceId : undefined);
  if (source === 'alibaba' && !regionId && !endpoint) {
    throw new ConfigError('PRESENCE_SOURCE=alibaba needs ALIBABA_CLOUD_REGION_ID (e.g. cn-hangzhou) or ONSMQTT_ENDPOINT');
  }
  const nodeEnv = text(env, 'NODE_ENV') ?? 'development';
  const config: AppConfig = {
    nodeEnv,
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
    redisUrl: redisUrl(env),
    redisKeyPrefix: text(env, 'REDIS_KEY_PREFIX') ?? 'presence-graph:',
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
      breakerFailures: integer(env, 'UPSTREAM_BREAKER_FAILURES', 5, 1, 1000),
      breakerCoolDownMs: integer(env, 'UPSTREAM_BREAKER_COOLDOWN_MS', 5000, 0, 600000),
      partialBatchIntervalMs:
        text(env, 'UPSTREAM_PARTIAL_BATCH_INTERVAL_MS') === undefined ? undefined : integer(env, 'UPSTREAM_PARTIAL_BATCH_INTERVAL_MS', 0, 0, 10000),
    },
    subscriptions: {
      pollIntervalMs: integer(env, 'SUBSCRIPTION_POLL_INTERVAL_MS', 1000, 100, 3600000),
      budgetShare: fraction(env, 'SUBSCRIPTION_BUDGET_SHARE', 0.2),
    },
    web: {
      corsOrigins: origins(env, 'CORS_ORIGINS'),
      // On by default while developing; production turns it on explicitly.
      graphiqlEnabled: flag(env, 'GRAPHIQL_ENABLED', nodeEnv !== 'production'),
    },
    security: loadSecurityConfig(env, nodeEnv),
  };
  return deepFreeze(config);
}

function loadSecurityConfig(env: Env, nodeEnv: string): SecurityConfig {
  const production = nodeEnv === 'production';
  const authMode = oneOf(env, 'AUTH_MODE', ['none', 'apikey', 'jwt'] as const, 'none');
  const allowAnonymous = flag(env, 'ALLOW_ANONYMOUS', false);
  assertNoUnusedCredentials(env, authMode);
  // Presence is fleet intelligence and every lookup is billed: production never serves anonymous
  // callers by accident, only when the operator says so.
  if (production && authMode === 'none' && !allowAnonymous) {
    throw new ConfigError(
      'NODE_ENV=production needs caller authentication: set AUTH_MODE=apikey (with API_KEYS or API_KEYS_FILE) or AUTH_MODE=jwt ' +
        '(with JWT_JWKS_URL or JWT_JWKS_FILE, JWT_ISSUER and JWT_AUDIENCE); to serve anonymous callers on purpose, set ALLOW_ANONYMOUS=true',
    );
  }
  return {
    authMode,
    apiKeys: authMode === 'apikey' ? apiKeys(env) : [],
    jwt: authMode === 'jwt' ? jwt(env) : undefined,
    // A quarter of the account's 1,000 IDs/s (100 calls of 10): one caller cannot take it all.
    callerLookupsPerSecond: integer(env, 'CALLER_LOOKUPS_PER_SECOND', 250, 0, 1000000),
    limits: {
      maxTokens: integer(env, 'MAX_QUERY_TOKENS', 2000, 100, 100000),
      maxDepth: integer(env, 'MAX_QUERY_DEPTH', 8, 3, 100),
      maxAliases: integer(env, 'MAX_QUERY_ALIASES', 30, 0, 10000),
      maxDirectives: integer(env, 'MAX_QUERY_DIRECTIVES', 10, 0, 10000),
      maxCost: integer(env, 'MAX_QUERY_COST', 2000, 1, 1000000),
      maxQueryBytes: integer(env, 'MAX_QUERY_BYTES', 8192, 256, 1048576),
      maxSubscriptionsPerConnection: integer(env, 'MAX_SUBSCRIPTIONS_PER_CONNECTION', 20, 1, 10000),
      maxConnectionsPerCaller: integer(env, 'MAX_CONNECTIONS_PER_CALLER', 20, 1, 100000),
    },
    introspection: flag(env, 'INTROSPECTION', !production),
  };
}

/**
 * Keys or token settings given for a mode that is not on would be silently ignored, and the API
 * left open (or checked some other way) while the operator believes it locked.
 */
function assertNoUnusedCredentials(env: Env, authMode: SecurityConfig['authMode']): void {
  const settings = { apikey: ['API_KEYS', 'API_KEYS_FILE'], jwt: ['JWT_JWKS_URL', 'JWT_JWKS_FILE', 'JWT_ISSUER', 'JWT_AUDIENCE'] } as const;
  for (const [mode, names] of Object.entries(settings)) {
    const unused = names.filter((name) => text(env, name) !== undefined);
    if (mode !== authMode && unused.length > 0) {
      throw new ConfigError(`${unused.join(', ')} ${unused.length > 1 ? 'are' : 'is'} set but AUTH_MODE is ${authMode}: set AUTH_MODE=${mode} to use ${unused.length > 1 ? 'them' : 'it'}, or unset ${unused.length > 1 ? 'them' : 'it'}`);
    }
  }
}

const API_KEYS_SHAPE = 'a JSON array of { "name", "sha256" (hex SHA-256 of the key, never the key itself), "instances": [...], "groups": [...] }';
// An exact name, a prefix ending in `*`, or `*` alone.
const SCOPE_PATTERN = /^(\*|[A-Za-z0-9_-]+\*?)$/;

function apiKeys(env: Env): ApiKeyConfig[] {
  const inline = text(env, 'API_KEYS');
  const file = text(env, 'API_KEYS_FILE');
  if (inline && file) throw new ConfigError('Set API_KEYS or API_KEYS_FILE, not both');
  if (!inline && !file) throw new ConfigError(`AUTH_MODE=apikey needs API_KEYS or API_KEYS_FILE: ${API_KEYS_SHAPE}`);
  const name = inline ? 'API_KEYS' : 'API_KEYS_FILE';
  const entries = jsonValue(name, inline ?? readText(name, file!));
  if (!Array.isArray(entries) || entries.length === 0) throw new ConfigError(`${name} must be ${API_KEYS_SHAPE}, with at least one key`);
  const keys = entries.map((entry, index) => apiKey(`${name}[${index}]`, entry));
  for (const field of ['name', 'sha256'] as const) {
    const seen = new Set<string>();
    for (const key of keys) {
      if (seen.has(key[field])) throw new ConfigError(`${name}: two keys have the same ${field}${field === 'name' ? ` ${JSON.stringify(key.name)}` : ''}`);
      seen.add(key[field]);
    }
  }
  return keys;
}

function apiKey(where: string, entry: unknown): ApiKeyConfig {
  const record = (entry ?? {}) as Record<string, unknown>;
  if (typeof record.name !== 'string' || record.name.trim() === '') throw new ConfigError(`${where}.name must be a non-empty string`);
  // Never echo this value: an operator who pasted the key itself would see it in the output.
  if (typeof record.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(record.sha256)) {
    throw new ConfigError(`${where}.sha256 must be the 64 hex characters of the key's SHA-256 (printf %s "$KEY" | sha256sum), never the key itself`);
  }
  return {
    name: record.name.trim(),
    sha256: record.sha256.toLowerCase(),
    instances: scopePatterns(`${where}.instances`, record.instances),
    groups: scopePatterns(`${where}.groups`, record.groups),
  };
}

function scopePatterns(where: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((pattern) => typeof pattern === 'string' && SCOPE_PATTERN.test(pattern))) {
    throw new ConfigError(`${where} must be an array of names, prefixes ending in * (GID_fleet-*), or * for all; got ${JSON.stringify(value)}`);
  }
  return value;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function jwt(env: Env): JwtConfig {
  const jwksUrl = url(env, 'JWT_JWKS_URL', 'https://login.example.com/.well-known/jwks.json');
  const jwksFile = text(env, 'JWT_JWKS_FILE');
  const issuer = text(env, 'JWT_ISSUER');
  const audience = text(env, 'JWT_AUDIENCE');
  if (!issuer || !audience || !jwksUrl === !jwksFile) {
    throw new ConfigError('AUTH_MODE=jwt needs JWT_ISSUER, JWT_AUDIENCE, and one of JWT_JWKS_URL or JWT_JWKS_FILE');
  }
  // Keys fetched over plain http could be swapped by anyone on the path, who could then sign tokens.
  if (jwksUrl && new URL(jwksUrl).protocol === 'http:' && !isLoopback(new URL(jwksUrl).hostname)) {
    throw new ConfigError(`JWT_JWKS_URL must use https (plain http only to this machine); got ${JSON.stringify(jwksUrl)}`);
  }
  let jwks: JwtConfig['jwks'];
  if (jwksFile) {
    const parsed = jsonValue('JWT_JWKS_FILE', readText('JWT_JWKS_FILE', jwksFile)) as { keys?: unknown } | null;
    if (!Array.isArray(parsed?.keys) || parsed.keys.length === 0) throw new ConfigError('JWT_JWKS_FILE must hold a JSON Web Key Set: { "keys": [ ... ] }');
    jwks = { keys: parsed.keys };
  }
  return {
    jwksUrl,
    jwks,
    issuer,
    audience,
    instancesClaim: text(env, 'JWT_INSTANCES_CLAIM') ?? 'instances',
    groupsClaim: text(env, 'JWT_GROUPS_CLAIM') ?? 'groups',
  };
}

function readText(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${name}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Parses JSON without repeating the parser's message, which quotes the input (it may hold a secret). */
function jsonValue(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new ConfigError(`${name} is not valid JSON`);
  }
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
    batchQps: integer(env, 'LOCAL_BATCH_QPS', 100, 1, 100000),
    exactQps: integer(env, 'LOCAL_EXACT_QPS', 500, 1, 100000),
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

/** A share such as 0.2: more than 0, at most 1. */
function fraction(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new ConfigError(`${name} must be a number more than 0 and at most 1 (e.g. 0.2 for 20%); got ${JSON.stringify(raw)}`);
  }
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false; got ${JSON.stringify(env[name])}`);
}

/** A comma-separated list of exact origins (`https://app.example.com`, no path, no `*`). */
function origins(env: Env, name: string): string[] {
  const raw = text(env, name);
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const parsed = parsedUrl(entry);
      const originOnly = parsed && parsed.origin !== 'null' && parsed.pathname === '/' && !parsed.search && !parsed.hash && !parsed.username;
      if (!parsed || !originOnly) {
        throw new ConfigError(`${name} must list origins such as https://app.example.com (scheme, host and port only), comma-separated; got ${JSON.stringify(entry)}`);
      }
      // Browsers send the origin normalised (lower-case host, no default port): compare like with like.
      return parsed.origin;
    });
}

function url(env: Env, name: string, example: string): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  const parsed = parsedUrl(raw);
  if (!parsed) throw new ConfigError(`${name} must be a URL such as ${example}; got ${JSON.stringify(raw)}`);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`${name} must use http or https; got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/**
 * `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. The value is never quoted back:
 * it may hold the password. Unchecked, a typo started the service with nothing shared, and every
 * replica took the whole account budget for itself.
 */
function redisUrl(env: Env): string | undefined {
  const raw = text(env, 'REDIS_URL');
  if (raw === undefined) return undefined;
  const parsed = parsedUrl(raw);
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || !parsed.hostname) {
    throw new ConfigError('REDIS_URL must be a URL such as redis://127.0.0.1:6379 (rediss:// for TLS); the value given is not (not shown: it may hold a password)');
  }
  return raw;
}

/** The URL, or undefined for text that is not one: each caller words its own message. */
function parsedUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const child of Object.values(value)) {
    if (child && typeof child === 'object') deepFreeze(child);
  }
  return Object.freeze(value);
}
