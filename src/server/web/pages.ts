import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import express, { type Router } from 'express';
import { contentSecurityPolicy, SECURITY_HEADERS } from './graphiql';

/**
 * The service's own pages besides GraphiQL: a landing page at `/` and the live presence page at
 * `/live` (web/live/main.ts, built into the GraphiQL assets folder by scripts/build-graphiql.mjs).
 * Same rule as GraphiQL (GRAPHIQL_ENABLED: on while developing, off with NODE_ENV=production unless
 * enabled), the same Content-Security-Policy and security headers, and nothing from any other host.
 * The live page is a client of the public API like any other: it holds no privilege of its own, and
 * with auth on it needs a key typed into it.
 */
export function webPages(options: { assetsDir: string }): Router {
  // Strict: `/live/` would resolve the page's relative URLs (graphql, graphiql/live.js) under /live/.
  const router = express.Router({ strict: true });
  let live: Promise<string> | undefined;
  router.get('/', (req, res) => {
    res.set(pageHeaders(req.headers.host)).type('html').send(LANDING_HTML);
  });
  router.get('/live', async (req, res) => {
    let html: string;
    try {
      html = await (live ??= readFile(join(options.assetsDir, 'live.html'), 'utf8'));
    } catch {
      live = undefined; // built later (npm run build): found on the next request
      res.status(503).type('text/plain').send('The live page is not built on this server: run `npm run build`, then reload.\n');
      return;
    }
    res.set(pageHeaders(req.headers.host)).type('html').send(html);
  });
  return router;
}

/** With the pages off (GRAPHIQL_ENABLED=false), `/` and `/live` say so rather than Express's "Cannot GET /". */
export function webPagesOff(): Router {
  const router = express.Router({ strict: true });
  router.get(['/', '/live'], (_req, res) => {
    res
      .status(404)
      .set(SECURITY_HEADERS)
      .type('text/plain')
      .send('The web pages are off on this server (GRAPHIQL_ENABLED=false, the default with NODE_ENV=production). GraphQL is served at /graphql.\n');
  });
  return router;
}

function pageHeaders(host: string | undefined): Record<string, string> {
  return { ...SECURITY_HEADERS, 'Content-Security-Policy': contentSecurityPolicy(host), 'Cache-Control': 'no-cache' };
}

/** Relative links only, so the page works under any path prefix a proxy adds. No script. */
const LANDING_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Presence Graph</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="graphiql/live.css" />
  </head>
  <body>
    <h1>Presence Graph</h1>
    <p class="lead">A GraphQL API telling apps whether IoT devices (MQTT clients of ApsaraMQ for MQTT) are online: queries batched into as few upstream calls as possible, live changes as subscriptions.</p>
    <section>
      <h2>Look</h2>
      <ul>
        <li><a href="live">Live presence</a>: the watched devices with their status and when it last changed, and a group's online devices over the last minutes. A client of the public API like any other.</li>
        <li><a href="graphql">GraphiQL</a>: run queries and subscriptions against <code>/graphql</code> (WebSocket <code>graphql-transport-ws</code> at <code>/graphql</code>, Server-Sent Events at <code>/graphql/stream</code>).</li>
      </ul>
    </section>
    <section>
      <h2>Read</h2>
      <p>In the repository of this service:</p>
      <ul>
        <li><code>README.md</code>: start, the first query, connecting a device, what <code>online</code> means, client snippets, the usual settings, deploying two replicas.</li>
        <li><code>docs/local-instance.md</code>, <code>docs/configuration.md</code>, <code>docs/security.md</code>, <code>docs/operations.md</code>, <code>docs/deploy/</code>, <code>docs/federation-and-http.md</code>, <code>docs/status-notices.md</code>, <code>docs/instances.md</code>, <code>docs/credentials.md</code>, <code>docs/architecture.md</code>, <code>docs/development.md</code>.</li>
        <li><code>schema/schema.graphql</code> (the subgraph schema) and <code>schema/client-schema.graphql</code> (for client tools).</li>
      </ul>
    </section>
  </body>
</html>
`;
