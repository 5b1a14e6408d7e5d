import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { ConnectionRefusal, type ConnectionRefusalLog } from '../observability/connection-refusal-log';

/**
 * Request headers a web client may send cross-origin: JSON bodies, credentials (auth), and the
 * headers Apollo's CSRF prevention asks a GET to carry.
 */
const ALLOWED_HEADERS = [
  'Content-Type',
  'Authorization',
  'X-API-Key',
  'Apollo-Require-Preflight',
  'X-Apollo-Operation-Name',
  'Apollographql-Client-Name',
  'Apollographql-Client-Version',
].join(', ');

/** How long a browser may reuse a preflight answer: fewer OPTIONS round trips, changes still land soon. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for /graphql with an allow-list (CORS_ORIGINS); by default no other origin may read answers.
 * No `Access-Control-Allow-Credentials`: callers authenticate with headers, never cookies, so no
 * page can borrow a user's session here. Sets the headers on `res` and returns true when it has
 * answered a preflight, allowed or not: that runs before authentication (a preflight carries no
 * credentials by design) and before any GraphQL work. A cross-origin request from an origin not
 * allowed (a preflight refused, or a request whose answer the browser will not let the page read)
 * goes to `refusals`, summarised (bounded lines per 10 s, the Origin truncated): a misconfigured
 * CORS_ORIGINS shows in the log, a flood of them costs a line per interval.
 */
export function cors(allowedOrigins: readonly string[], refusals?: ConnectionRefusalLog): (req: IncomingMessage, res: ServerResponse) => boolean {
  const allowed = new Set(allowedOrigins);
  return (req, res) => {
    const origin = req.headers.origin;
    // Answers differ by Origin: a cache must not hand one origin's answer to another.
    res.setHeader('vary', 'Origin');
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (origin !== undefined && allowed.has(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      if (preflight) {
        res.setHeader('access-control-allow-methods', 'GET, POST');
        res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
        res.setHeader('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS));
      }
    }
    if (origin !== undefined && !allowed.has(origin) && (preflight || !sameHost(origin, req.headers.host))) {
      refusals?.record(ConnectionRefusal.OriginNotAllowed, 'http', origin);
    }
    if (!preflight) return false;
    // Not allowed: answered without permission headers, so the browser sends nothing further.
    res.statusCode = 204;
    res.end();
    return true;
  };
}

/**
 * Whether a WebSocket upgrade may proceed. Browsers apply no CORS to WebSockets, so any page could
 * open one to this service with the visitor's network position: only this service's own pages
 * (same host) and the CORS_ORIGINS allow-list may. Clients that are not browsers send no Origin.
 */
export function webSocketOriginAllowed(allowedOrigins: readonly string[], headers: IncomingHttpHeaders): boolean {
  const origin = headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins.includes(origin)) return true;
  return sameHost(origin, headers.host);
}

/** Whether `origin` names the host the request was sent to: this service's own pages (GraphiQL, /live). */
function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
