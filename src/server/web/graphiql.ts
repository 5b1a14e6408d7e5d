import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Router } from 'express';
import Negotiator from 'negotiator';

/**
 * GraphiQL, self-hosted: a browser asking for GET /graphql (Accept: text/html) gets the page, and
 * the page's script and styles come from /graphiql/ on this same service. They are built from the
 * `graphiql` npm package at build time (scripts/build-graphiql.mjs, run by `npm run build`), so the
 * page works where no CDN is reachable, and its Content-Security-Policy lets it reach nothing else.
 * This replaces Apollo's landing pages, which load from Apollo's CDN.
 */
export function graphiqlPage(options: { assetsDir: string }): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  let page: Promise<string> | undefined;
  // Resolves true when it answered (a browser asking for the page), false to let GraphQL handle it.
  return async (req, res) => {
    if (req.method !== 'GET' || !prefersHtml(req)) return false;
    if (redirectedFromTrailingSlash(req, res)) return true;
    let html: string;
    try {
      html = await (page ??= readFile(join(options.assetsDir, 'index.html'), 'utf8'));
    } catch {
      page = undefined; // built later (npm run build): found on the next request
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('GraphiQL is not built on this server: run `npm run build`, then reload.\n');
      return true;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Security-Policy': contentSecurityPolicy(req.headers.host),
      'Cache-Control': 'no-cache',
      'Content-Type': 'text/html; charset=utf-8',
    });
    res.end(html);
    return true;
  };
}

/**
 * With GraphiQL off, a browser asking for the page is told so, rather than getting Apollo's
 * CSRF refusal of a GET with no query (a 400 that says nothing about GraphiQL).
 */
export function graphiqlOffPage(): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    if (req.method !== 'GET' || !prefersHtml(req) || new URLSearchParams(pathAndSearch(req).search).size > 0) return false;
    res
      .writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' })
      .end('GraphiQL is off on this server (GRAPHIQL_ENABLED=false, the default with NODE_ENV=production). GraphQL is served here: POST application/json.\n');
    return true;
  };
}

/**
 * The page loads its assets by relative URLs (`graphiql/…`), so that it works under any path prefix
 * a proxy adds. At `/graphql/` they would resolve to `/graphql/graphiql/…`: the browser is sent to
 * the same path without the slash, by a relative URL for the same reason.
 */
function redirectedFromTrailingSlash(req: IncomingMessage, res: ServerResponse): boolean {
  const { path, search } = pathAndSearch(req);
  if (!path.endsWith('/') || path === '/') return false;
  const lastSegment = path.slice(0, -1).split('/').pop()!;
  res.writeHead(308, { location: `../${lastSegment}${search}` }).end();
  return true;
}

/** The request's path, and its query string with the `?` (or ''). */
function pathAndSearch(req: IncomingMessage): { path: string; search: string } {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  return queryStart === -1 ? { path: url, search: '' } : { path: url.slice(0, queryStart), search: url.slice(queryStart) };
}

/** The page's script and styles, under /graphiql/. */
export function graphiqlAssets(options: { assetsDir: string }): Router {
  const router = express.Router();
  router.use(
    '/graphiql',
    express.static(options.assetsDir, {
      index: false,
      // Revalidated (ETag) rather than cached for long: the file names carry no content hash.
      setHeaders: (res) => res.set({ ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' }),
    }),
    (_req, res) => void res.status(404).type('text/plain').send('Not found\n'),
  );
  return router;
}

/** Where `npm run build` writes the bundle: dist/graphiql under the package root, from src/ or dist/src/. */
export function defaultGraphiqlAssetsDir(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'graphiql');
}

export const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** Like Apollo's landing-page rule: a GET whose Accept prefers HTML over JSON (a browser's address bar). */
function prefersHtml(req: IncomingMessage): boolean {
  return new Negotiator(req).mediaType(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
}

/**
 * Everything from this service, nothing from anywhere else. GraphiQL's fonts are inlined as data:
 * URLs in its CSS. WebSockets to this host are named explicitly: older browsers do not count ws:
 * and wss: as 'self'.
 */
export function contentSecurityPolicy(host: string | undefined): string {
  const sockets = host && /^[A-Za-z0-9.:[\]-]+$/.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
