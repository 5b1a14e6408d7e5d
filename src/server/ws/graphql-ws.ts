import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  getOperationAST,
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  specifiedRules,
  type ExecutionArgs,
} from 'graphql';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { GraphQLContext } from '../../graphql/context';
import { presenceExtensions } from '../../graphql/errors';
import { ConnectionOperations } from './connection-operations';
import { pauseAfterRefusal } from './paced-refusals';
import { UnauthenticatedError } from '../auth/authenticator';
import { credentialsOf } from './connection-credentials';
import { formatForStream } from './stream-errors';
import type { Caller } from '../../common/caller';
import { webSocketOriginAllowed } from '../http/cors';
import { ConnectionRefusal } from '../observability/connection-refusal-log';
import { subscribeWithContextPerEvent } from './per-event-subscribe';
import { assertWithinRequestLimits, assertWithinSubscriptionCost } from '../limits/request-limits.plugin';
import { ValidatedDocuments } from '../limits/validated-documents';
import type { GraphQLWebSocketOptions } from './graphql-ws-options';

export type { GraphQLWebSocketOptions } from './graphql-ws-options';

/**
 * Close codes of this service's own refusals. Refused credentials close with graphql-ws's 4401
 * (CloseCode.Unauthorized), which its clients treat as final, as they would retry the same
 * credentials forever; 4403 (what graphql-ws sends for a refused connection) stays for what a retry
 * may fix: credentials that could not be checked right now.
 */
export const CLOSE_CREDENTIALS_EXPIRED = CloseCode.Unauthorized;
export const CLOSE_TOO_MANY_CONNECTIONS = 4429;
// setTimeout's longest delay (about 24.8 days); a later expiry is re-armed when it fires.
const MAX_TIMER_MS = 2 ** 31 - 1;

type ConnectionExtra = {
  caller?: Caller;
  /** Set once the connection is counted against its caller's MAX_CONNECTIONS_PER_CALLER. */
  counted?: boolean;
  expiryTimer?: NodeJS.Timeout;
  operations?: ConnectionOperations;
};

export interface GraphQLWebSocket {
  /** Open connections whose credentials were accepted (presence_websocket_connections). */
  readonly connections: number;
  /** Closes every connection (code 1001, their subscriptions end and stop their watches), then the server. */
  dispose(): Promise<void>;
}

/**
 * GraphQL over WebSocket (the graphql-ws protocol, `graphql-transport-ws`) at /graphql on the service's
 * own HTTP server: subscriptions, and queries for clients that send everything over one socket.
 *
 * Auth happens once per connection, from its connection params (`Authorization: Bearer …` or
 * `X-API-Key`, as headers would carry them; GraphiQL sends its headers editor's content there): a
 * refused caller's socket closes with 4401 before any operation. Each operation then runs with the
 * caller's scope, fair share and the request limits of the HTTP path.
 *
 * Bounded per caller and per socket: at most `maxConnectionsPerCaller` open sockets per caller on
 * this replica (more close with 4429), `maxSubscriptionsPerConnection` operations at once per socket
 * (more are refused with BAD_USER_INPUT), and query texts of `maxQueryBytes`. Credentials that expire
 * (a JWT's `exp`) close the socket with 4401 when they do, and no operation starts after it.
 */
export function attachGraphQLWebSocket(options: GraphQLWebSocketOptions): GraphQLWebSocket {
  const { httpServer, schema, logger } = options;
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  const rules = [...specifiedRules, ...(options.validationRules ?? []), ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  const format = (error: GraphQLError) => formatForStream(error, !options.introspection);
  // Each distinct query text parsed, bounded and validated once, for every connection (Apollo's document cache does it over HTTP).
  const documents = new ValidatedDocuments({ schema, rules, parseOptions: options.parseOptions, maxFields: options.maxFields });
  // Open sockets per caller name; an entry goes when its count reaches 0, so the map stays bounded.
  const connectionsPerCaller = new Map<string, number>();
  let connections = 0;
  // Sockets per address not yet authenticated, the same way; each upgrade's release, called once
  // its credentials are accepted or it closes, whichever comes first.
  const unauthenticatedPerAddress = new Map<string, number>();
  const releaseOf = new WeakMap<IncomingMessage, () => void>();

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    if (!options.hostAllowed(request.headers)) {
      options.connectionRefusals.record(ConnectionRefusal.UnknownHost, 'websocket', request.headers.host);
      return refuseUpgrade(socket, 421, 'Misdirected Request');
    }
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== options.path) return refuseUpgrade(socket, 404, 'Not Found');
    if (!webSocketOriginAllowed(options.allowedOrigins, request.headers)) {
      // Summarised, the Origin truncated: it needs no credentials and may be 16 KB (a line each was 16 MB per 2,000 upgrades).
      options.connectionRefusals.record(ConnectionRefusal.OriginNotAllowed, 'websocket', request.headers.origin);
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    // Until connection_init is accepted (graphql-ws waits 3 s for it), a socket costs its holder
    // nothing, not even credentials: bounded per address, not per caller.
    const address = request.socket.remoteAddress ?? 'unknown';
    const pending = unauthenticatedPerAddress.get(address) ?? 0;
    if (pending >= options.maxUnauthenticatedSocketsPerAddress) {
      options.connectionRefusals.record(ConnectionRefusal.TooManyUnauthenticatedSockets, 'websocket', address);
      return refuseUpgrade(socket, 429, 'Too Many Requests');
    }
    unauthenticatedPerAddress.set(address, pending + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (unauthenticatedPerAddress.get(address) ?? 1) - 1;
      if (left > 0) unauthenticatedPerAddress.set(address, left);
      else unauthenticatedPerAddress.delete(address);
    };
    releaseOf.set(request, release);
    socket.once('close', release);
    wsServer.handleUpgrade(request, socket, head, (webSocket) => {
      wsServer.emit('connection', webSocket, request);
      // graphql-ws's 'connection' listener (just run) answers a socket error with console.error and a
      // stack: a client sending a malformed frame (invalid UTF-8, over maxPayload), authenticated or
      // not, wrote unstructured lines to stderr at will. ws itself closes such a socket (1007, 1009…);
      // a debug line is all it is worth.
      webSocket.removeAllListeners('error');
      webSocket.on('error', (error: Error & { code?: string }) => logger.debug({ code: error.code, message: error.message }, 'WebSocket closed on a socket error'));
    });
  };
  httpServer.on('upgrade', onUpgrade);

  const server = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      schema,
      isProd: options.isProduction,
      async onConnect(ctx) {
        let caller: Caller;
        try {
          caller = await options.authenticator.authenticate(credentialsOf(ctx.connectionParams, ctx.extra.request));
        } catch (error) {
          if (!(error instanceof UnauthenticatedError)) throw error;
          options.authRefusals.record(error, ctx.extra.request.socket.remoteAddress, 'websocket');
          // Closed first with the final code; graphql-ws's 4403 for `false` then finds the socket closing.
          if (!error.retryable) ctx.extra.socket.close(CloseCode.Unauthorized, closeReason(error.message));
          return false;
        }
        // Closed while authenticating: onClose has run already, so nothing may be counted now.
        if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) return false;
        const open = connectionsPerCaller.get(caller.name) ?? 0;
        if (open >= options.maxConnectionsPerCaller) {
          options.connectionRefusals.record(ConnectionRefusal.TooManyConnectionsForCaller, 'websocket', caller.name);
          // Closed first with our own code; graphql-ws's 4403 for `false` then finds the socket closing.
          ctx.extra.socket.close(CLOSE_TOO_MANY_CONNECTIONS, 'Too many connections');
          return false;
        }
        connectionsPerCaller.set(caller.name, open + 1);
        connections++;
        releaseOf.get(ctx.extra.request)?.();
        ctx.extra.counted = true;
        ctx.extra.caller = caller;
        if (caller.expiresAtMs !== undefined) armExpiry(ctx.extra, caller.expiresAtMs);
        return true;
      },
      onClose(ctx) {
        const extra = ctx.extra;
        clearTimeout(extra.expiryTimer);
        extra.expiryTimer = undefined;
        if (extra.counted && extra.caller) {
          extra.counted = false;
          connections--;
          const left = (connectionsPerCaller.get(extra.caller.name) ?? 1) - 1;
          if (left > 0) connectionsPerCaller.set(extra.caller.name, left);
          else connectionsPerCaller.delete(extra.caller.name);
        }
      },
      onSubscribe(ctx, id, payload): ExecutionArgs | readonly GraphQLError[] {
        const caller = callerOf(ctx.extra);
        if (caller.expiresAtMs !== undefined && Date.now() >= caller.expiresAtMs) {
          return [new GraphQLError('The credentials of this connection have expired; reconnect with fresh ones', { extensions: { code: 'UNAUTHENTICATED' } })];
        }
        // This operation is already among ctx.subscriptions (graphql-ws adds it before onSubscribe).
        const operations = (ctx.extra.operations ??= new ConnectionOperations());
        if (operations.count(ctx.subscriptions, id) > options.maxSubscriptionsPerConnection) {
          const message = `This connection already runs the most operations allowed (${options.maxSubscriptionsPerConnection}, MAX_SUBSCRIPTIONS_PER_CONNECTION); complete one first`;
          return [new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } })];
        }
        if (typeof payload.query === 'string' && Buffer.byteLength(payload.query, 'utf8') > options.maxQueryBytes) {
          return [new GraphQLError(`The query text is longer than ${options.maxQueryBytes} bytes (MAX_QUERY_BYTES)`, { extensions: { code: 'BAD_REQUEST' } })];
        }
        // Before any parsing: a refused operation costs a map lookup.
        const overShare = options.operationShare?.take(caller.name, 1);
        if (overShare) {
          // A flood of subscribes waits in the socket's buffers until the share has room again.
          pauseAfterRefusal(ctx.extra.socket, overShare.retryAfterMs);
          return [new GraphQLError(overShare.message, { extensions: presenceExtensions(overShare) })];
        }
        const { document, errors } = documents.check(payload.query);
        if (errors) return errors;
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) {
          // Apollo's code over HTTP for the same mistake; without one it was masked as an internal error.
          return [
            new GraphQLError('The document must name the operation to run (operationName)', {
              extensions: { code: ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE },
            }),
          ];
        }
        // Queries are counted as over HTTP; subscriptions check their own IDs when they start, and their cost here.
        try {
          if (operation.operation !== 'subscription') {
            assertWithinRequestLimits(schema, document, payload.operationName, payload.variables, options.requestLimits);
          } else {
            assertWithinSubscriptionCost(schema, document, payload.operationName, payload.variables, options.requestLimits.maxCost);
          }
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        operations.started(id, payload, operation.operation === 'subscription' ? 'stream' : 'execution');
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
      },
      // Called once an accepted operation's execution or stream has ended, even one the client completed.
      onComplete(ctx, id, payload) {
        ctx.extra.operations?.ended(id, payload);
      },
      context: (ctx) => options.contextFor(callerOf(ctx.extra)),
      subscribe: subscribeWithContextPerEvent<GraphQLContext>((operationContext) => options.contextFor(operationContext.caller)),
      // Logged as over HTTP (error-logging.plugin.ts): upstream failures and unexpected errors.
      onError: (ctx, _id, payload, errors) => {
        options.errorLog.record(errors, payload.operationName, callerOf(ctx.extra).name);
        return errors.map(format);
      },
      onNext: (ctx, _id, _payload, args, result) => {
        if (!result.errors) return undefined;
        const operationName = getOperationAST(args.document, args.operationName)?.name?.value;
        options.errorLog.record(result.errors, operationName, callerOf(ctx.extra).name);
        return { ...result, errors: result.errors.map(format) };
      },
    },
    wsServer,
  );

  /** Closes the socket with 4401 once the caller's credentials expire; the timer goes with the socket. */
  function armExpiry(extra: ConnectionExtra & { socket: { close(code: number, reason: string): void } }, expiresAtMs: number): void {
    const left = expiresAtMs - Date.now();
    if (left <= 0) {
      extra.socket.close(CLOSE_CREDENTIALS_EXPIRED, 'Credentials expired');
      return;
    }
    extra.expiryTimer = setTimeout(() => armExpiry(extra, expiresAtMs), Math.min(left, MAX_TIMER_MS));
    extra.expiryTimer.unref();
  }

  let disposing: Promise<void> | undefined;
  return {
    get connections() {
      return connections;
    },
    dispose: () =>
      (disposing ??= (async () => {
        httpServer.off('upgrade', onUpgrade);
        await server.dispose();
      })()),
  };
}

function callerOf(extra: { caller?: Caller }): Caller {
  // graphql-ws runs operations only after onConnect accepted the connection: fail closed otherwise.
  if (!extra.caller) throw new Error('no authenticated caller on this WebSocket connection');
  return extra.caller;
}

/** A close frame's reason holds at most 123 bytes: the message when it fits. */
function closeReason(message: string): string {
  return Buffer.byteLength(message, 'utf8') <= 123 ? message : 'Unauthorized';
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
