/**
 * What browsers and networks reach: the address the service listens on, the Host names it answers
 * for, cross-origin callers, the self-hosted GraphiQL page, and where the operator endpoints live.
 */
import { ConfigError, flag, integer, isLoopback, list, parsedUrl, text, type Env } from './env';

/** Where /healthz, /readyz and /metrics are served when not on the GraphQL port. */
export interface OpsListener {
  host: string;
  /** 0: a free one. */
  port: number;
  /** Host names requests to it may carry; undefined: any (Kubernetes probes name the pod's IP). */
  allowedHosts?: readonly string[];
}

export interface WebConfig {
  /** Origins allowed cross-origin (CORS, and the Origin of WebSocket upgrades); empty: same origin only. */
  corsOrigins: readonly string[];
  /** Whether a browser asking for GET /graphql gets the self-hosted GraphiQL, and / and /live are served (web/pages.ts). */
  graphiqlEnabled: boolean;
  /**
   * Host names (the Host header, port aside) HTTP requests and WebSocket upgrades may carry. A page
   * on an attacker's name that resolves to this address (DNS rebinding) carries the attacker's name,
   * and is refused. Undefined: any name.
   */
  allowedHosts?: readonly string[];
  /** The operator endpoints' own listener; undefined: they are served on the GraphQL port. */
  ops?: OpsListener;
}

/** What the Host header says when a client reaches the service through the loopback interface. */
export const LOOPBACK_HOST_NAMES: readonly string[] = Object.freeze(['localhost', '127.0.0.1', '[::1]']);
// The port of OpenTelemetry's Prometheus exporter: a metrics port, out of the way of application ports.
export const DEFAULT_OPS_PORT = 9464;

/**
 * HOST. Developing, this machine only: a laptop on a shared network serves nobody else, and pages
 * cannot reach it under another name (see allowedHosts). In production (a container), every interface.
 */
export function listenHost(env: Env, nodeEnv: string): string {
  return text(env, 'HOST') ?? (nodeEnv === 'production' ? '0.0.0.0' : '127.0.0.1');
}

export interface Listening {
  nodeEnv: string;
  /** HOST and PORT of the GraphQL listener. */
  host: string;
  port: number;
  /** Whether callers are served without credentials (AUTH_MODE=none). */
  anonymous: boolean;
}

export function webConfig(env: Env, listening: Listening): WebConfig {
  return {
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    // On by default while developing; production turns it on explicitly.
    graphiqlEnabled: flag(env, 'GRAPHIQL_ENABLED', listening.nodeEnv !== 'production'),
    allowedHosts: allowedHosts(env, listening),
    ops: opsListener(env, listening),
  };
}

/**
 * ALLOWED_HOSTS, or what it defaults to: the loopback names when listening on loopback; any name when
 * callers must present credentials (a rebinding page has none); and refused when anonymous callers
 * are served beyond this machine, where a rebinding page would read everything.
 */
function allowedHosts(env: Env, { host, anonymous }: Listening): readonly string[] | undefined {
  const entries = list(env, 'ALLOWED_HOSTS');
  if (entries === undefined || entries.length === 0) {
    if (isLoopback(host)) return LOOPBACK_HOST_NAMES;
    if (!anonymous) return undefined;
    throw new ConfigError(
      `HOST=${host} serves anonymous callers beyond this machine: set ALLOWED_HOSTS to the names clients use (presence.example.com,10.0.0.5), ` +
        'so that a page whose name is pointed at this address (DNS rebinding) is refused; ALLOWED_HOSTS=* accepts any',
    );
  }
  if (entries.includes('*')) {
    if (entries.length > 1) throw new ConfigError(`ALLOWED_HOSTS is either * alone or a list of names; got ${JSON.stringify(text(env, 'ALLOWED_HOSTS'))}`);
    return undefined;
  }
  return entries.map((entry) => {
    const name = entry.toLowerCase();
    if (!HOST_NAME.test(name)) {
      throw new ConfigError(`ALLOWED_HOSTS must list host names or addresses without port or scheme (presence.example.com, 10.0.0.5, [::1]), comma-separated; got ${JSON.stringify(entry)}`);
    }
    return name;
  });
}

// A DNS name, an IPv4 address, or an IPv6 address in brackets, as a Host header carries them.
const HOST_NAME = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/;

/**
 * OPS_PORT and OPS_HOST. In production the operator endpoints get their own port by default
 * (9464), off the public one: /metrics tells traffic, versions and error codes to whoever reads it.
 * Developing, they stay on the GraphQL port (which listens on loopback) unless OPS_PORT is set.
 */
function opsListener(env: Env, listening: Listening): OpsListener | undefined {
  const production = listening.nodeEnv === 'production';
  const host = text(env, 'OPS_HOST');
  if (text(env, 'OPS_PORT') === undefined && !production) {
    if (host !== undefined) throw new ConfigError('OPS_HOST is set without OPS_PORT: outside production the operator endpoints are on the GraphQL port unless OPS_PORT gives them their own');
    return undefined;
  }
  const port = integer(env, 'OPS_PORT', DEFAULT_OPS_PORT, 0, 65535);
  if (port !== 0 && port === listening.port) throw new ConfigError(`OPS_PORT must differ from PORT (both ${port}): the operator endpoints get a port of their own`);
  const opsHost = host ?? listening.host;
  return { host: opsHost, port, allowedHosts: isLoopback(opsHost) ? LOOPBACK_HOST_NAMES : undefined };
}

/** A comma-separated list of exact origins (`https://app.example.com`, no path, no `*`). */
function origins(env: Env, name: string): string[] {
  return (list(env, name) ?? []).map((entry) => {
    const parsed = parsedUrl(entry);
    const originOnly = parsed && parsed.origin !== 'null' && parsed.pathname === '/' && !parsed.search && !parsed.hash && !parsed.username;
    if (!parsed || !originOnly) {
      throw new ConfigError(`${name} must list origins such as https://app.example.com (scheme, host and port only), comma-separated; got ${JSON.stringify(entry)}`);
    }
    // Browsers send the origin normalised (lower-case host, no default port): compare like with like.
    return parsed.origin;
  });
}
