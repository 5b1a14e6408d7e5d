import type { IncomingMessage, ServerResponse } from 'node:http';
import Negotiator from 'negotiator';
import { createHandler, type HandlerOptions, type OperationContext } from 'graphql-sse';
import type { Caller } from '../../common/caller';
import type { Logger } from '../../common/logger';
import { answerRefusal, type HeldRefusals } from '../http/held-refusals';
import { isRefusal, refusal, sendRefusal, type HttpRefusal } from '../http/http-refusal';
import { readJsonBody } from '../http/json-body';
import { ConnectionRefusal, type ConnectionRefusalLog } from '../observability/connection-refusal-log';
import type { SseRequestContext } from './graphql-sse';

type Handler<T> = (req: IncomingMessage, res: ServerResponse) => T;
// setTimeout's longest delay (about 24.8 days); a later expiry is re-armed when it fires.
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SseHttpOptions<Context extends OperationContext> {
  /** graphql-sse's handler options, checks included (graphql-sse.ts). */
  handler: HandlerOptions<IncomingMessage, SseRequestContext, Context>;
  /** The /graphql CORS rules (cors.ts): true when it has answered a preflight. */
  cors: Handler<boolean>;
  authenticate: (req: IncomingMessage) => Promise<Caller | HttpRefusal>;
  /** Checks on the caller alone, before its body is read (its share of operations), as on /graphql. */
  admission?: ReadonlyArray<(caller: Caller) => HttpRefusal | undefined>;
  /** Where a refusal with a `delayMs` waits before it is answered (shared with /graphql); without it, at once. */
  heldRefusals?: HeldRefusals;
  /**
   * Apollo's CSRF rule, for a GET (an EventSource is one, sent by any page with no preflight): the
   * headers one of which it must carry; undefined where CSRF prevention is off (http/csrf.ts).
   */
  csrfRequestHeaders: readonly string[] | undefined;
  maxBodyBytes: number;
  /** Streams one caller may hold open on this replica at once; more are refused with 429. */
  maxStreamsPerCaller: number;
  connectionRefusals: ConnectionRefusalLog;
  logger: Logger;
}

export interface GraphQLSseHttp {
  /** Serves one request for the event stream path: a stream, or a refusal. */
  handle: Handler<void>;
  /** Whether a request to /graphql asks for an event stream (Accept prefers text/event-stream): a gateway's subscription. */
  wantsEventStream(req: IncomingMessage): boolean;
  /** Open event streams (presence_sse_streams). */
  readonly streams: number;
  /** Ends every open stream (their subscriptions stop their watches). */
  dispose(): void;
}

/**
 * graphql-sse on node:http, as graphql-sse's own `use/http` but bounded: CORS first (a preflight ends
 * there), GET and POST only, an Accept that takes an event stream, CSRF prevention as for /graphql,
 * authentication before the body is read, the caller's admission (its share of operations; refused
 * before the body is read and answered after its retry time, as on /graphql, so a client re-sending
 * at once cannot turn refusals into a flood), the body's byte limit (graphql-sse reads any length),
 * MAX streams per caller, and a stream that ends when the caller's credentials expire.
 */
export function graphqlSseHttp<Context extends OperationContext>(options: SseHttpOptions<Context>): GraphQLSseHttp {
  const handler = createHandler<IncomingMessage, SseRequestContext, Context>(options.handler);
  const streamsPerCaller = new Map<string, number>();
  const open = new Set<ServerResponse>();

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (options.cors(req, res)) return;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'POST') {
      return sendRefusal(res, refusal(405, 'Method not allowed: event streams are asked for by GET or POST (graphql-sse, distinct connections mode)', 'BAD_REQUEST', { allow: 'GET, POST' }));
    }
    if (!acceptsEventStream(req)) return sendRefusal(res, refusal(406, 'This path answers with an event stream: send Accept: text/event-stream', 'BAD_REQUEST'));
    if (method === 'POST' && !/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
      return sendRefusal(res, refusal(415, 'A POST here must be application/json', 'BAD_REQUEST'));
    }
    const caller = await options.authenticate(req);
    if (isRefusal(caller)) return sendRefusal(res, caller);
    // After authentication, as Apollo's check on /graphql: a GET, which an EventSource on any page sends
    // with no preflight, must carry a header that forces one (credentials count; http/csrf.ts).
    if (method === 'GET' && options.csrfRequestHeaders && !options.csrfRequestHeaders.some((name) => (req.headers[name] ?? '') !== '')) {
      const names = options.csrfRequestHeaders.join(', ');
      return sendRefusal(res, refusal(400, `This operation has been blocked as a potential Cross-Site Request Forgery (CSRF): a GET must carry one of the headers ${names}`, 'BAD_REQUEST'));
    }
    for (const admit of options.admission ?? []) {
      const refused = admit(caller);
      if (refused) return answerRefusal(options.heldRefusals, res, caller.name, refused);
    }
    const read = method === 'POST' ? await readJsonBody(req, options.maxBodyBytes) : { body: undefined };
    if (isRefusal(read)) return sendRefusal(res, read);
    if (method === 'POST' && (typeof read.body !== 'object' || read.body === null || Array.isArray(read.body))) {
      return sendRefusal(res, refusal(400, 'The body must be one operation: { query, variables, operationName, extensions }'));
    }

    const held = streamsPerCaller.get(caller.name) ?? 0;
    if (held >= options.maxStreamsPerCaller) {
      options.connectionRefusals.record(ConnectionRefusal.TooManyConnectionsForCaller, 'http', caller.name);
      return sendRefusal(res, refusal(429, `This caller already holds the most event streams allowed (${options.maxStreamsPerCaller}); end one first`, 'RATE_LIMITED'));
    }
    streamsPerCaller.set(caller.name, held + 1);
    open.add(res);
    let expiry: NodeJS.Timeout | undefined;
    res.once('close', () => {
      clearTimeout(expiry);
      open.delete(res);
      const left = (streamsPerCaller.get(caller.name) ?? 1) - 1;
      if (left > 0) streamsPerCaller.set(caller.name, left);
      else streamsPerCaller.delete(caller.name);
    });
    const armExpiry = (expiresAtMs: number) => {
      const left = expiresAtMs - Date.now();
      if (left <= 0) return void res.end();
      expiry = setTimeout(() => armExpiry(expiresAtMs), Math.min(left, MAX_TIMER_MS));
      expiry.unref();
    };
    if (caller.expiresAtMs !== undefined) armExpiry(caller.expiresAtMs);

    const [body, init] = await handler({
      method,
      url: req.url ?? '/',
      headers: {
        // graphql-sse picks the distinct connections mode on exactly this Accept: it was negotiated above.
        get: (name) => (name === 'accept' ? 'text/event-stream' : headerValue(req, name)),
      },
      body: read.body as Record<string, unknown> | undefined ?? null,
      raw: req,
      context: { caller },
    });
    if (res.destroyed) {
      if (body && typeof body !== 'string') await body.return(undefined);
      return;
    }
    // A proxy (nginx) must pass events on as they come.
    res.writeHead(init.status, init.statusText, { ...init.headers, ...(body && typeof body !== 'string' && { 'x-accel-buffering': 'no' }) });
    if (!body || typeof body === 'string') {
      res.end(body ?? undefined);
      return;
    }
    const stop = () => void body.return(undefined);
    res.once('close', stop);
    for await (const chunk of body) {
      if (!res.writable) break;
      if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
    }
    res.off('close', stop);
    res.end();
  };

  return {
    handle: (req, res) => {
      serve(req, res).catch((error: unknown) => {
        options.logger.error({ err: error }, 'GraphQL event stream failed outside GraphQL');
        if (res.headersSent) return void res.destroy();
        sendRefusal(res, refusal(500, 'Internal server error', 'INTERNAL_SERVER_ERROR'));
      });
    },
    wantsEventStream: (req) => preferred(req) === 'text/event-stream',
    get streams() {
      return open.size;
    },
    dispose() {
      for (const res of open) res.end();
    },
  };
}

const MEDIA_TYPES = ['application/graphql-response+json', 'application/json', 'text/event-stream'];

function preferred(req: IncomingMessage): string | undefined {
  if (req.headers.accept === undefined) return undefined;
  return new Negotiator(req).mediaType(MEDIA_TYPES);
}

function acceptsEventStream(req: IncomingMessage): boolean {
  return new Negotiator(req).mediaTypes(['text/event-stream']).length > 0;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}
