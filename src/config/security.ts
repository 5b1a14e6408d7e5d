/** Security by default: caller authentication, per-caller shares, and what one request may cost. */
import { apiKeys, assertNoUnusedCredentials, jwt, type ApiKeyConfig, type AuthMode, type JwtConfig } from './auth';
import { ConfigError, flag, integer, list, oneOf, type Env } from './env';
import type { PresenceSource } from './upstream';

/** Checked before an operation runs, so a refused one costs no upstream call. */
export interface CostLimits {
  /** Lexical tokens of one document (parsing stops past it). */
  maxTokens: number;
  /**
   * Fields and fragment spreads of one document as written, counted after parsing and before
   * validation: graphql-js's overlapping-fields rule is quadratic in repeated selections, so this
   * bounds the CPU a legal document can cost before any rule runs.
   */
  maxFields: number;
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
  /**
   * WebSocket sockets one address may hold before they are authenticated (upgraded, connection_init
   * not yet accepted): no caller is known yet, so MAX_CONNECTIONS_PER_CALLER cannot bound them.
   */
  maxUnauthenticatedSocketsPerAddress: number;
  /** Distinct devices one caller may watch through subscriptions at once, on this replica, over all its sockets. */
  maxWatchedDevicesPerCaller: number;
}

export interface SecurityConfig {
  authMode: AuthMode;
  /** AUTH_MODE=apikey: the known keys (API_KEYS or API_KEYS_FILE). */
  apiKeys: readonly ApiKeyConfig[];
  /** AUTH_MODE=jwt. */
  jwt?: JwtConfig;
  /** Client ID lookups per second one caller may make, in memory per replica; 0 turns the share off. */
  callerLookupsPerSecond: number;
  /** GraphQL operations per second one caller may start (each of a batch, each WebSocket subscribe), in memory per replica; 0 turns the share off. */
  callerOperationsPerSecond: number;
  /**
   * Callers (API key names, JWT subjects) that get Apollo's inline traces (ftv1: per-field timings)
   * when they ask for them, as a federation router does; nobody else does. Empty: traces are off.
   */
  inlineTraceCallers: readonly string[];
  limits: CostLimits;
  /** Schema introspection, and field suggestions in errors (which would leak the same). */
  introspection: boolean;
}

export function securityConfig(env: Env, nodeEnv: string, source: PresenceSource = 'local'): SecurityConfig {
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
  assertSourceMeant(env, production, source, authMode === 'none' && !allowAnonymous);
  return {
    authMode,
    apiKeys: authMode === 'apikey' ? apiKeys(env) : [],
    jwt: authMode === 'jwt' ? jwt(env) : undefined,
    // A quarter of the account's 1,000 IDs/s (100 calls of 10): one caller cannot take it all.
    callerLookupsPerSecond: integer(env, 'CALLER_LOOKUPS_PER_SECOND', 250, 0, 1000000),
    // Enough for a dashboard or a router; each operation is validated at most a few ms (MAX_QUERY_FIELDS),
    // so one caller can take a bounded slice of the event loop, not all of it.
    callerOperationsPerSecond: integer(env, 'CALLER_OPERATIONS_PER_SECOND', 50, 0, 1000000),
    inlineTraceCallers: inlineTraceCallers(env, authMode),
    limits: costLimits(env),
    introspection: flag(env, 'INTROSPECTION', !production),
  };
}

/**
 * A real, billed account is never served to anonymous callers by accident, in any environment (a
 * development start listens on loopback, but a recipe copied to a server would not); and production
 * never serves the local instance's made-up devices unless LOCAL_IN_PRODUCTION=true asks for them.
 */
function assertSourceMeant(env: Env, production: boolean, source: PresenceSource, anonymousUnasked: boolean): void {
  if (source === 'alibaba' && anonymousUnasked) {
    throw new ConfigError(
      'PRESENCE_SOURCE=alibaba needs caller authentication (AUTH_MODE=apikey or AUTH_MODE=jwt), in every environment: every lookup is billed to the account; ' +
        'to serve anonymous callers on purpose, set ALLOW_ANONYMOUS=true',
    );
  }
  const localWanted = flag(env, 'LOCAL_IN_PRODUCTION', false);
  if (production && source === 'local' && !localWanted) {
    throw new ConfigError(
      'NODE_ENV=production with PRESENCE_SOURCE=local (the default) would serve the local instance\'s made-up devices: set PRESENCE_SOURCE=alibaba, ' +
        'or LOCAL_IN_PRODUCTION=true to serve the local instance on purpose (a demo)',
    );
  }
}

/** Traces reveal per-field timings: only named callers, so never with AUTH_MODE=none, where nobody has a name of its own. */
function inlineTraceCallers(env: Env, authMode: AuthMode): readonly string[] {
  const callers = list(env, 'INLINE_TRACE_CALLERS') ?? [];
  if (callers.length > 0 && authMode === 'none') {
    throw new ConfigError('INLINE_TRACE_CALLERS names callers, which AUTH_MODE=none has none of: set AUTH_MODE=apikey or AUTH_MODE=jwt, or unset INLINE_TRACE_CALLERS');
  }
  return callers;
}

function costLimits(env: Env): CostLimits {
  return {
    maxTokens: integer(env, 'MAX_QUERY_TOKENS', 2000, 100, 100000),
    // GraphiQL's introspection query has 81, a 30-alias dashboard about 200; 250 validates in a few ms at worst.
    maxFields: integer(env, 'MAX_QUERY_FIELDS', 250, 10, 100000),
    maxDepth: integer(env, 'MAX_QUERY_DEPTH', 8, 3, 100),
    maxAliases: integer(env, 'MAX_QUERY_ALIASES', 30, 0, 10000),
    maxDirectives: integer(env, 'MAX_QUERY_DIRECTIVES', 10, 0, 10000),
    maxCost: integer(env, 'MAX_QUERY_COST', 2000, 1, 1000000),
    maxQueryBytes: integer(env, 'MAX_QUERY_BYTES', 8192, 256, 1048576),
    maxSubscriptionsPerConnection: integer(env, 'MAX_SUBSCRIPTIONS_PER_CONNECTION', 20, 1, 10000),
    maxConnectionsPerCaller: integer(env, 'MAX_CONNECTIONS_PER_CALLER', 20, 1, 100000),
    maxUnauthenticatedSocketsPerAddress: integer(env, 'MAX_UNAUTHENTICATED_SOCKETS_PER_ADDRESS', 10, 1, 100000),
    // Ten subscriptions of MAX_IDS_PER_REQUEST: a fleet view, not the 40,000 made-up IDs that starved the poller.
    maxWatchedDevicesPerCaller: integer(env, 'MAX_WATCHED_DEVICES_PER_CALLER', 1000, 1, 1000000),
  };
}
