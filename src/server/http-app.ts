import express, { type Express, type RequestHandler } from 'express';
import type { PresenceMetrics } from './metrics';

export interface ReadinessCheck {
  name: string;
  /** Resolves when ready; rejects (or throws) with a reason an operator can act on. */
  check(): Promise<void>;
}

/**
 * The HTTP surface: GraphQL at /graphql plus the operator endpoints of the public contract
 * (/healthz process alive, /readyz dependencies reachable, /metrics Prometheus text).
 */
export function createHttpApp(options: {
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

  app.use('/graphql', express.json({ limit: options.maxBodyBytes }), ...options.graphql);
  return app;
}
