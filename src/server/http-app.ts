import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { PresenceMetrics } from './metrics';

export interface ReadinessCheck {
  name: string;
  /** Resolves when ready; rejects (or throws) with a reason an operator can act on. */
  check(): Promise<void>;
}

/**
 * Body errors (too large, not JSON) as GraphQL-shaped JSON; anything else a bare 500. Express's own
 * handler would answer HTML with the stack trace outside NODE_ENV=production.
 */
const bodyErrors: ErrorRequestHandler = (error: { status?: number; type?: string }, _req, res, next) => {
  if (res.headersSent) return next(error);
  if (error.type === 'entity.too.large') {
    res.status(413).json({ errors: [{ message: 'The request body is too large', extensions: { code: 'BAD_REQUEST' } }] });
  } else if (typeof error.status === 'number' && error.status >= 400 && error.status < 500) {
    const message = error.type === 'entity.parse.failed' ? 'The request body is not valid JSON' : 'The request body could not be read';
    res.status(error.status).json({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
  } else {
    res.status(500).json({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  }
};

/**
 * The HTTP surface: GraphQL at /graphql plus the operator endpoints of the public contract
 * (/healthz process alive, /readyz dependencies reachable, /metrics Prometheus text).
 */
export function createHttpApp(options: {
  /** Runs first on /graphql: CORS headers, and preflights answered before anything else runs. */
  cors: RequestHandler;
  /** The self-hosted GraphiQL (GET /graphql from a browser, /graphiql/ assets); unset when disabled. */
  graphiql?: RequestHandler;
  /** Runs on /graphql before the body is read: refuses callers without valid credentials. */
  authenticate: RequestHandler;
  /** The handlers of /graphql, in order, after the JSON body parser. */
  graphql: readonly RequestHandler[];
  metrics: PresenceMetrics;
  readiness: readonly ReadinessCheck[];
  maxBodyBytes: number;
}): Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const failures: Record<string, string> = {};
    await Promise.all(
      options.readiness.map(async ({ name, check }) => {
        try {
          await check();
        } catch (error) {
          failures[name] = (error as Error).message;
        }
      }),
    );
    const ready = Object.keys(failures).length === 0;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', failures });
  });

  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await options.metrics.render();
    res.type(contentType).send(body);
  });

  app.use('/graphql', options.cors);
  // Before authentication: the page and its assets are public; the operations it sends are not.
  if (options.graphiql) app.use(options.graphiql);
  app.use('/graphql', options.authenticate, express.json({ limit: options.maxBodyBytes }), ...options.graphql);
  app.use(bodyErrors);
  return app;
}
