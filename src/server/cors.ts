import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';

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
 * page can borrow a user's session here. A preflight ends here, allowed or not, before
 * authentication (it carries no credentials by design) and before any GraphQL work.
 */
export function cors(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    // Answers differ by Origin: a cache must not hand one origin's answer to another.
    res.vary('Origin');
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (origin !== undefined && allowed.has(origin)) {
      res.set('Access-Control-Allow-Origin', origin);
      if (preflight) {
        res.set({
          'Access-Control-Allow-Methods': 'GET, POST',
          'Access-Control-Allow-Headers': ALLOWED_HEADERS,
          'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
        });
      }
    }
    // Not allowed: answered without permission headers, so the browser sends nothing further.
    if (preflight) return void res.status(204).end();
    next();
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
  try {
    return new URL(origin).host === headers.host;
  } catch {
    return false;
  }
}
