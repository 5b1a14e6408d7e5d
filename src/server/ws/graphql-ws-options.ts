import type { IncomingHttpHeaders, Server } from 'node:http';
import type { GraphQLSchema, ParseOptions, ValidationRule } from 'graphql';
import type { Caller } from '../../common/caller';
import type { Logger } from '../../common/logger';
import type { GraphQLContext } from '../../graphql/context';
import type { AuthRefusalLog } from '../auth/auth-refusal-log';
import type { Authenticator } from '../auth/authenticator';
import type { OperationShare } from '../limits/operation-share';
import type { RequestLimits } from '../limits/request-limits.plugin';
import type { ConnectionRefusalLog } from '../observability/connection-refusal-log';
import type { RequestErrorLog } from '../observability/error-logging.plugin';

/** What the WebSocket transport is given: one options object, each option with what it bounds. */
export interface GraphQLWebSocketOptions {
  httpServer: Server;
  schema: GraphQLSchema;
  /** The path upgrades are accepted on, `/graphql`: the same URL as queries. */
  path: string;
  /** CORS_ORIGINS: besides this service's own pages, the origins whose pages may connect. */
  allowedOrigins: readonly string[];
  /** Largest message accepted, like the HTTP body limit. */
  maxPayloadBytes: number;
  /** The same authenticator as HTTP: credentials come from the connection params instead of headers. */
  authenticator: Authenticator;
  /**
   * A fresh context for one caller: called once per operation, and again for every subscription
   * event, so no DataLoader lives longer than one execution.
   */
  contextFor(caller: Caller): GraphQLContext;
  /** The HTTP path's limits, applied to queries over WebSocket too (subscriptions check their own IDs). */
  requestLimits: RequestLimits;
  parseOptions?: ParseOptions;
  validationRules?: readonly ValidationRule[];
  /** MAX_QUERY_FIELDS: checked after parsing, before validation (limits/document-work.ts). */
  maxFields: number;
  /** CALLER_OPERATIONS_PER_SECOND: every subscribe takes one of its caller's operations; absent, unlimited. */
  operationShare?: OperationShare;
  /** INTROSPECTION: when off, introspection is refused and errors suggest no field names, as over HTTP. */
  introspection: boolean;
  logger: Logger;
  /** Where request errors are logged and refused lookups counted, shared with HTTP. */
  errorLog: RequestErrorLog;
  /** Where refused credentials are counted, shared with HTTP. */
  authRefusals: AuthRefusalLog;
  /** In production, graphql-ws hides internal error messages in close reasons. */
  isProduction: boolean;
  /** MAX_QUERY_BYTES: longer query texts are refused before they are parsed. */
  maxQueryBytes: number;
  /** MAX_SUBSCRIPTIONS_PER_CONNECTION: operations one socket may run at once; more are refused. */
  maxSubscriptionsPerConnection: number;
  /** MAX_CONNECTIONS_PER_CALLER: open sockets per caller on this replica; more close with 4429. */
  maxConnectionsPerCaller: number;
  /**
   * MAX_UNAUTHENTICATED_SOCKETS_PER_ADDRESS: sockets one address may hold from the upgrade until
   * its credentials are accepted; more upgrades are refused with HTTP 429.
   */
  maxUnauthenticatedSocketsPerAddress: number;
  /** ALLOWED_HOSTS: whether the upgrade's Host header names this service; others are refused with 421. */
  hostAllowed(headers: IncomingHttpHeaders): boolean;
  /** Where upgrades refused before authentication (Host, too many sockets) are counted. */
  connectionRefusals: ConnectionRefusalLog;
}
