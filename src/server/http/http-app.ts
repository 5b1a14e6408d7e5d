import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { refusal, sendRefusal } from './http-refusal';
import type { PresenceMetrics } from '../observability/metrics';

export const GRAPHQL_PATH = '/graphql';
/** Subscriptions (and queries) over Server-Sent Events, the graphql-sse protocol: sse/use-http.ts. */
export const GRAPHQL_STREAM_PATH = '/graphql/stream';

export interface ReadinessCheck {
  name: string;
  /**
   * Resolves when ready, optionally with what it is ready on (e.g. which credentials source), shown
   * under `ready` in /readyz: never a secret. Rejects (or throws) with a reason an operator can act on.
   */
  check(): Promise<string | void>;
}

/** Express's own handler would answer HTML with the stack trace outside NODE_ENV=production. */
const internalError: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) return next(error);
  sendRefusal(res, refusal(500, 'Internal server error', 'INTERNAL_SERVER_ERROR'));
};

/**
 * The HTTP surface of the GraphQL port: GraphQL at /graphql, GraphiQL's assets, the landing and live
 * pages, and the operator endpoints when they share the port (`ops`; see createOpsApp).
 */
export function createHttpApp(options: {
  /** /graphql (and /graphql/), every method: graphql-http-handler.ts. */
  graphql: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * GraphQL over Server-Sent Events: everything at /graphql/stream, and a request to /graphql whose
   * Accept prefers text/event-stream (a gateway's default subscription transport, Hive Gateway's).
   */
  stream?: { handle: (req: IncomingMessage, res: ServerResponse) => void; wantsEventStream(req: IncomingMessage): boolean };
  /** The self-hosted GraphiQL's assets under /graphiql/; unset when disabled. */
  graphiqlAssets?: RequestHandler;
  /** The landing page at / and the live page at /live (web/pages.ts), or what says they are off. */
  pages?: RequestHandler;
  /** The operator endpoints, when served on this port (outside production, unless OPS_PORT is set). */
  ops?: RequestHandler;
}): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  if (options.ops) app.use(options.ops);
  if (options.graphiqlAssets) app.use(options.graphiqlAssets);
  if (options.pages) app.use(options.pages);
  app.use(internalError);
  const stream = options.stream;
  return (req, res) => {
    const path = pathOf(req.url);
    if (path === GRAPHQL_PATH || path === `${GRAPHQL_PATH}/`) {
      if (stream?.wantsEventStream(req)) stream.handle(req, res);
      else options.graphql(req, res);
    } else if (stream && (path === GRAPHQL_STREAM_PATH || path === `${GRAPHQL_STREAM_PATH}/`)) stream.handle(req, res);
    else app(req, res);
  };
}

/**
 * The operator endpoints of the public contract: /healthz process alive, /readyz dependencies
 * reachable, /metrics Prometheus text. Unauthenticated, so on a port of their own in production
 * (OPS_PORT), which the network keeps to the cluster.
 */
export function createOpsApp(options: { metrics: PresenceMetrics; readiness: readonly ReadinessCheck[] }): express.Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const failures: Record<string, string> = {};
    const readyOn: Record<string, string> = {};
    await Promise.all(
      options.readiness.map(async ({ name, check }) => {
        try {
          const detail = await check();
          if (detail) readyOn[name] = detail;
        } catch (error) {
          failures[name] = (error as Error).message;
        }
      }),
    );
    const ready = Object.keys(failures).length === 0;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', failures, ...(Object.keys(readyOn).length > 0 && { ready: readyOn }) });
  });

  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await options.metrics.render();
    res.type(contentType).send(body);
  });

  app.use(internalError);
  return app;
}

/** The path of a request URL, without its query string. */
function pathOf(url = ''): string {
  const end = url.indexOf('?');
  return end === -1 ? url : url.slice(0, end);
}
