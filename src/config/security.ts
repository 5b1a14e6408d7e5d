/** Security by default: caller authentication, per-caller shares, and what one request may cost. */
import { apiKeys, assertNoUnusedCredentials, jwt, type ApiKeyConfig, type AuthMode, type JwtConfig } from './auth';
import { ConfigError, flag, integer, oneOf, type Env } from './env';

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

export function securityConfig(env: Env, nodeEnv: string): SecurityConfig {
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
    limits: costLimits(env),
    introspection: flag(env, 'INTROSPECTION', !production),
  };
}

function costLimits(env: Env): CostLimits {
  return {
    maxTokens: integer(env, 'MAX_QUERY_TOKENS', 2000, 100, 100000),
    maxDepth: integer(env, 'MAX_QUERY_DEPTH', 8, 3, 100),
    maxAliases: integer(env, 'MAX_QUERY_ALIASES', 30, 0, 10000),
    maxDirectives: integer(env, 'MAX_QUERY_DIRECTIVES', 10, 0, 10000),
    maxCost: integer(env, 'MAX_QUERY_COST', 2000, 1, 1000000),
    maxQueryBytes: integer(env, 'MAX_QUERY_BYTES', 8192, 256, 1048576),
    maxSubscriptionsPerConnection: integer(env, 'MAX_SUBSCRIPTIONS_PER_CONNECTION', 20, 1, 10000),
    maxConnectionsPerCaller: integer(env, 'MAX_CONNECTIONS_PER_CALLER', 20, 1, 100000),
  };
}
