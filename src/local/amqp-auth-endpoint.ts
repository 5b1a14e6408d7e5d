import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { STATUS_NOTICE_VHOST } from '../upstream/status-notices/amqp-login';
import { checkAmqpLogin, checkAmqpUsername, fixedLoginKey, LoginCheckGate, type AmqpLoginKey, type AmqpLoginKeys, type LoginCheckGateOptions } from './amqp-login-check';
import { assertPort, hostPort, listen } from './listen';
import { silentLogger, type LocalLogger } from './logger';

/**
 * What RabbitMQ's `rabbitmq_auth_backend_http` (3.10, README "What Must My Web Server Do?") asks, so
 * that a real RabbitMQ checks server-side SDK logins the way the cloud does. RabbitMQ sends GET with
 * a query string (its default) or POST with a form body (`http_method = post`, recommended: passwords
 * stay out of access logs); this answers both, always 200 with `allow` or `deny`:
 *
 * - `/auth/user`: username, password → the signed login check (amqp-login-check.ts);
 * - `/auth/vhost`: username, vhost, ip → allow only vhost MQTT;
 * - `/auth/resource`: username, vhost, resource, name, permission;
 * - `/auth/topic`: the same and routing_key → both allowed on vhost MQTT.
 *
 * RabbitMQ asks the last three only about a user this backend logged in, so they check the username
 * alone. The set-up user (guest) never gets here: `auth_backends` puts the internal backend first.
 */
export enum AuthPath {
  User = '/auth/user',
  Vhost = '/auth/vhost',
  Resource = '/auth/resource',
  Topic = '/auth/topic',
}

/** One answer, as a test or an operator sees it: never the password, never the username (it may carry a token). */
export interface AuthDecision {
  path: AuthPath;
  allowed: boolean;
  /** Why it was denied (a login refusal, 'other-vhost', 'busy'), or 'signed' when allowed. */
  reason: string;
  /** For an allowed login: the ts it signed (the SDK's `signKey`), so a fresh login per connection shows. */
  signedAtMs?: number;
  /** For an allowed login: the AccessKey ID it used (an identifier, not a secret), so a login with a renewed key shows. */
  accessKeyId?: string;
  atMs: number;
}

/**
 * Whose logins to allow: one fixed AccessKey (the local instance's), or `keys`, asked at every
 * question, e.g. the temporary keys an STS stand-in issued, each with its current token.
 */
export type AmqpAuthEndpointOptions = (AmqpLoginKey | { keys: AmqpLoginKeys }) & AmqpAuthEndpointSettings;

export interface AmqpAuthEndpointSettings extends LoginCheckGateOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** @default Date.now */
  now?: () => number;
  logger?: LocalLogger;
}

export interface AmqpAuthEndpoint {
  /** 'http://127.0.0.1:PORT/auth': append /user, /vhost, /resource, /topic (prepare-rabbitmq.sh does). */
  readonly url: string;
  /** The last answers, oldest first (at most 10,000). */
  readonly decisions: readonly AuthDecision[];
  close(): Promise<void>;
}

/** A form body is a handful of short fields; anything bigger is not RabbitMQ. */
const MAX_BODY_BYTES = 16 * 1024;
const MAX_DECISIONS = 10_000;
const FORM = 'application/x-www-form-urlencoded';

export async function startAmqpAuthEndpoint(options: AmqpAuthEndpointOptions): Promise<AmqpAuthEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  assertPort('AmqpAuthEndpoint: port', port);
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const gate = new LoginCheckGate(options);
  const keys = 'keys' in options ? options.keys : fixedLoginKey(options);
  const decisions: AuthDecision[] = [];

  const decide = async (path: AuthPath, params: URLSearchParams): Promise<AuthDecision> => {
    const username = params.get('username') ?? '';
    if (path === AuthPath.User) {
      const verdict = await gate.run(() => checkAmqpLogin({ username, password: params.get('password') ?? '' }, keys, now()));
      if (verdict === 'busy') return { path, allowed: false, reason: 'busy', atMs: now() };
      if (!verdict.ok) return { path, allowed: false, reason: verdict.reason, atMs: now() };
      return { path, allowed: true, reason: 'signed', signedAtMs: verdict.signedAtMs, accessKeyId: verdict.accessKeyId, atMs: now() };
    }
    const user = checkAmqpUsername(username, keys, now());
    if (!user.ok) return { path, allowed: false, reason: user.reason, atMs: now() };
    if (params.get('vhost') !== STATUS_NOTICE_VHOST) return { path, allowed: false, reason: 'other-vhost', atMs: now() };
    return { path, allowed: true, reason: 'signed', atMs: now() };
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://auth.invalid');
    const path = Object.values(AuthPath).find((known) => known === url.pathname);
    if (path === undefined) return answer(response, 404, 'not found');
    if (request.method !== 'GET' && request.method !== 'POST') return answer(response, 405, 'GET or POST');
    let params = url.searchParams;
    if (request.method === 'POST') {
      const type = (request.headers['content-type'] ?? FORM).split(';')[0].trim().toLowerCase();
      if (type !== FORM) return answer(response, 415, FORM);
      const body = await readBody(request);
      if (body === undefined) return answer(response, 413, 'body too large');
      params = new URLSearchParams(body);
    }
    const decision = await decide(path, params);
    decisions.push(decision);
    if (decisions.length > MAX_DECISIONS) decisions.splice(0, decisions.length - MAX_DECISIONS);
    if (!decision.allowed) logger.warn({ path, reason: decision.reason }, 'AMQP auth denied');
    answer(response, 200, decision.allowed ? 'allow' : 'deny');
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'AMQP auth endpoint failed; answered deny');
      if (!response.headersSent) answer(response, 200, 'deny');
    });
  });
  const boundPort = await listen(server, host, port, 'LOCAL_AMQP_AUTH_PORT');
  logger.info({ url: `http://${hostPort(host, boundPort)}/auth` }, 'AMQP auth endpoint (rabbitmq_auth_backend_http) listening');
  return {
    url: `http://${hostPort(host, boundPort)}/auth`,
    decisions,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function answer(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  response.end(text);
}

/** The body as text, or undefined when it passes MAX_BODY_BYTES (read to the end all the same, so the answer can be sent). */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
}
