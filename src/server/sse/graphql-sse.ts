import type { IncomingMessage } from 'node:http';
import {
  getOperationAST,
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  specifiedRules,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
  type ParseOptions,
  type ValidationRule,
} from 'graphql';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import type { HandlerOptions, OperationArgs } from 'graphql-sse';
import type { Caller } from '../../common/caller';
import type { GraphQLContext } from '../../graphql/context';
import { presenceExtensions } from '../../graphql/errors';
import { assertWithinRequestLimits, assertWithinSubscriptionCost, type RequestLimits } from '../limits/request-limits.plugin';
import type { OperationShare } from '../limits/operation-share';
import { ValidatedDocuments } from '../limits/validated-documents';
import type { RequestErrorLog } from '../observability/error-logging.plugin';
import { formatForStream } from '../ws/stream-errors';
import { subscribeWithContextPerEvent } from '../ws/per-event-subscribe';

/** What one event stream carries besides graphql-sse's own request: its authenticated caller. */
export interface SseRequestContext {
  caller: Caller;
}

export interface GraphQLSseOptions {
  schema: GraphQLSchema;
  /** A fresh context for one caller, per operation and again per subscription event (as over WebSocket). */
  contextFor(caller: Caller): GraphQLContext;
  requestLimits: RequestLimits;
  parseOptions?: ParseOptions;
  validationRules?: readonly ValidationRule[];
  maxFields: number;
  maxQueryBytes: number;
  operationShare?: OperationShare;
  introspection: boolean;
  errorLog: RequestErrorLog;
}

type Context = GraphQLContext & Record<PropertyKey, unknown>;

/**
 * GraphQL over Server-Sent Events (the graphql-sse protocol, distinct connections mode), transport
 * aside: graphql-sse's handler options with the checks of the WebSocket path (graphql-ws.ts), in its
 * order. The caller is authenticated before graphql-sse sees the request (use-http.ts) and each
 * operation then runs with its scope, its fair share, its operation share, the query length, field and
 * token limits, the validation rules, the request limits (queries) or the cost (subscriptions), and a
 * context per event. Single connection mode is off: every operation is a stream of its own.
 */
export function graphqlSseHandlerOptions(options: GraphQLSseOptions): HandlerOptions<IncomingMessage, SseRequestContext, Context> {
  const { schema } = options;
  const rules = [...specifiedRules, ...(options.validationRules ?? []), ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  const documents = new ValidatedDocuments({ schema, rules, parseOptions: options.parseOptions, maxFields: options.maxFields });
  const format = (error: GraphQLError) => formatForStream(error, !options.introspection);
  // Sent as the stream's one `next` event, then `complete`, as graphql-ws sends a refusal; `data: null`
  // because graphql-sse takes a result from onSubscribe only when it has a `data` key.
  const refused = (errors: readonly GraphQLError[]): ExecutionResult => ({ data: null, errors: [...errors] });
  const contextOf = (caller: Caller) => options.contextFor(caller) as Context;

  return {
    schema,
    // null: no stream tokens, so no single connection mode (PUT reservations answer 404).
    authenticate: () => null,
    // Every document was validated with all the rules in onSubscribe (ValidatedDocuments): not again.
    validate: () => [],
    onSubscribe(req, params): OperationArgs<Context> | ExecutionResult {
      const caller = req.context.caller;
      if (caller.expiresAtMs !== undefined && Date.now() >= caller.expiresAtMs) {
        return refused([new GraphQLError('The credentials of this request have expired', { extensions: { code: 'UNAUTHENTICATED' } })]);
      }
      if (typeof params.query === 'string' && Buffer.byteLength(params.query, 'utf8') > options.maxQueryBytes) {
        return refused([new GraphQLError(`The query text is longer than ${options.maxQueryBytes} bytes (MAX_QUERY_BYTES)`, { extensions: { code: 'BAD_REQUEST' } })]);
      }
      const overShare = options.operationShare?.take(caller.name, 1);
      if (overShare) return refused([new GraphQLError(overShare.message, { extensions: presenceExtensions(overShare) })]);
      const { document, errors } = documents.check(params.query);
      if (errors) return refused(errors);
      const operation = getOperationAST(document, params.operationName);
      if (!operation) {
        return refused([
          new GraphQLError('The document must name the operation to run (operationName)', { extensions: { code: ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE } }),
        ]);
      }
      if (operation.operation === 'mutation' && req.method === 'GET') {
        return refused([new GraphQLError('Mutations are not run over GET', { extensions: { code: 'BAD_REQUEST' } })]);
      }
      try {
        if (operation.operation !== 'subscription') {
          assertWithinRequestLimits(schema, document, params.operationName, params.variables, options.requestLimits);
        } else {
          assertWithinSubscriptionCost(schema, document, params.operationName, params.variables, options.requestLimits.maxCost);
        }
      } catch (error) {
        if (error instanceof GraphQLError) return refused([error]);
        throw error;
      }
      return {
        schema,
        document,
        operationName: params.operationName,
        variableValues: params.variables,
        contextValue: contextOf(caller),
      } satisfies ExecutionArgs & { contextValue: Context };
    },
    subscribe: subscribeWithContextPerEvent<Context>((operationContext) => contextOf(operationContext.caller)) as HandlerOptions<
      IncomingMessage,
      SseRequestContext,
      Context
    >['subscribe'],
    onNext(_ctx, req, result) {
      if (!result.errors) return undefined;
      options.errorLog.record(result.errors as GraphQLError[], undefined, req.context.caller.name);
      return { ...result, errors: result.errors.map((error) => (error instanceof GraphQLError ? format(error) : error)) } as unknown as ExecutionResult;
    },
  };
}
