import { HeaderMap, type ApolloServer, type HTTPGraphQLResponse } from '@apollo/server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLContext } from '../../graphql/context';
import type { Caller } from '../../common/caller';
import { answerRefusal, type HeldRefusals } from './held-refusals';
import { isRefusal, refusal, sendRefusal, type HttpRefusal } from './http-refusal';
import { readJsonBody } from './json-body';
import { failedOnDocumentOnly } from './request-errors.plugin';
import type { Logger } from '../../common/logger';

type Handler<T> = (req: IncomingMessage, res: ServerResponse) => T;

export interface GraphQLHttpOptions {
  apollo: ApolloServer<GraphQLContext>;
  /** CORS headers; true when it has answered a preflight (cors.ts). */
  cors: Handler<boolean>;
  /** The GraphiQL page for a browser's GET; resolves true when it answered. */
  page?: Handler<Promise<boolean>>;
  /** The caller, or the 401 to answer (auth/authenticate-request.ts). */
  authenticate: (req: IncomingMessage) => Promise<Caller | HttpRefusal>;
  /** Checks on the caller alone, before its body is read (its share of operations: limits/). */
  admission?: ReadonlyArray<(caller: Caller) => HttpRefusal | undefined>;
  /** Checks on the parsed body, the query string and the caller before Apollo sees them (limits/). */
  checks: ReadonlyArray<(body: unknown, search: string, caller: Caller) => HttpRefusal | undefined>;
  contextFor: (caller: Caller) => GraphQLContext;
  /** Where a refusal with a `delayMs` waits before it is answered; without it, answered at once. */
  heldRefusals?: HeldRefusals;
  maxBodyBytes: number;
  logger: Logger;
}

/**
 * /graphql over node:http, in the order a request needs it: CORS (a preflight ends there), the
 * GraphiQL page for a browser, authentication (before the body is read), the caller's admission (its
 * share of operations, before the body is read), the JSON body with its byte limit, the
 * request-wide checks (query text length, the share charged per operation, operation batches), then
 * Apollo Server, whose answer is written as it gives it. docs/security.md lists the order.
 *
 * Not express: on an all-cached 10-device query, express's router, JSON body parser and `res.send`
 * cost about as much CPU as the whole GraphQL request (BENCHMARKS.md, performance pass). Express still
 * serves everything else (health, metrics, GraphiQL assets).
 */
export function graphqlHttpHandler(options: GraphQLHttpOptions): Handler<void> {
  const { apollo, logger } = options;
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (options.cors(req, res)) return;
    const method = req.method ?? 'GET';
    // Only a GET can ask for the page: a POST, the hot path, skips an await for nothing.
    if (method === 'GET' && options.page && (await options.page(req, res))) return;
    // A non-preflight OPTIONS carries no credentials and is no GraphQL request: answered here, as
    // Apollo answers other methods, since handing it on ended in a context without a caller (a 500).
    if (method === 'OPTIONS') return sendRefusal(res, refusal(405, 'Method not allowed: /graphql answers GET and POST', 'BAD_REQUEST', { allow: 'GET, POST' }));
    const caller = await options.authenticate(req);
    if (isRefusal(caller)) return sendRefusal(res, caller);
    const refuse = (refused: HttpRefusal) => answerRefusal(options.heldRefusals, res, caller.name, refused);
    if (options.admission) {
      for (const admit of options.admission) {
        const refused = admit(caller);
        if (refused) return refuse(refused);
      }
    }

    const read = method === 'POST' ? await readJsonBody(req, options.maxBodyBytes) : { body: undefined };
    if (isRefusal(read)) return sendRefusal(res, read);
    const url = req.url ?? '';
    const queryStart = url.indexOf('?');
    const search = queryStart === -1 ? '' : url.slice(queryStart);
    for (const check of options.checks) {
      const refused = check(read.body, search, caller);
      if (refused) return refuse(refused);
    }

    const headers = new HeaderMap();
    for (const name in req.headers) {
      const value = req.headers[name];
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const httpGraphQLRequest = { method, headers, search, body: read.body };
    const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: async () => options.contextFor(caller) });
    // The spec's status for a document that fails to parse, validate or coerce: 200 in application/json,
    // 4xx in application/graphql-response+json (request-errors.plugin.ts). A batch keeps Apollo's one status.
    if (response.status === 400 && !Array.isArray(read.body) && failedOnDocumentOnly(httpGraphQLRequest) && isPlainJson(response)) response.status = 200;
    if (response.body.kind === 'complete') return writeComplete(res, response, response.body.string);
    await writeChunked(res, response, response.body.asyncIterator);
  };
  return (req, res) => {
    serve(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'GraphQL HTTP request failed outside GraphQL');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendRefusal(res, refusal(500, 'Internal server error', 'INTERNAL_SERVER_ERROR'));
    });
  };
}

function isPlainJson(response: HTTPGraphQLResponse): boolean {
  return response.headers.get('content-type')?.startsWith('application/json') === true;
}

function writeHead(res: ServerResponse, response: HTTPGraphQLResponse): void {
  for (const [name, value] of response.headers) {
    // CORS has already said the answer varies by Origin; Apollo may add its own reasons.
    if (name === 'vary' && res.hasHeader('vary')) res.setHeader('vary', `${String(res.getHeader('vary'))}, ${value}`);
    else res.setHeader(name, value);
  }
  res.statusCode = response.status ?? 200;
}

/** A whole answer, the usual case: written in one go, no await. */
function writeComplete(res: ServerResponse, response: HTTPGraphQLResponse, body: string): void {
  writeHead(res, response);
  res.end(body);
}

/** An answer Apollo streams (incremental delivery): each part as it comes. */
async function writeChunked(res: ServerResponse, response: HTTPGraphQLResponse, parts: AsyncIterable<string>): Promise<void> {
  writeHead(res, response);
  for await (const part of parts) res.write(part);
  res.end();
}
