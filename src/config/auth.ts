/** Who may call: API keys (known by their SHA-256) or JWTs, each with a scope of instances and groups. */
import { ConfigError, integer, isLoopback, jsonValue, readText, text, url, type Env } from './env';

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
  /** Longest lifetime a token may claim: `exp` − `iat` (or − now, without `iat`). A stolen token lapses within it. */
  maxLifetimeSeconds: number;
  /** How far the issuer's clock may be from this host's, for `exp`, `nbf` and a future `iat`. */
  clockSkewSeconds: number;
}

/**
 * Keys or token settings given for a mode that is not on would be silently ignored, and the API
 * left open (or checked some other way) while the operator believes it locked.
 */
export function assertNoUnusedCredentials(env: Env, authMode: AuthMode): void {
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

export function apiKeys(env: Env): ApiKeyConfig[] {
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

export function jwt(env: Env): JwtConfig {
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
    // A day: longer than any access token an issuer hands out (usually an hour), far short of `exp: 1e20`.
    maxLifetimeSeconds: integer(env, 'JWT_MAX_LIFETIME_SECONDS', 86400, 60, 31536000),
    clockSkewSeconds: integer(env, 'JWT_CLOCK_SKEW_SECONDS', 5, 0, 300),
  };
}
