import { Kind, type GraphQLError } from 'graphql';
import type { RequestHooks } from './request-listeners.plugin';

/**
 * The HTTP requests (Apollo clones the context per operation, not the request) of those that failed before execution for a reason of their own document: it does
 * not parse, does not validate, or its variables do not coerce. Apollo answers these 400 whatever the
 * client accepts; the GraphQL-over-HTTP spec says a server SHOULD answer 200 when the answer is
 * `application/json` (a client that may not understand 4xx as a GraphQL answer) and 4xx when it is
 * `application/graphql-response+json`. Apollo picks the media type after the plugins have run, so
 * the plugin only marks the request and graphql-http-handler.ts sets the status once it knows the
 * type. Nothing else changes status: this service's own refusals (limits, shares) stay 4xx.
 */
const requestErrorsOnly = new WeakSet<object>();

export function documentRequestErrorsHooks(): RequestHooks {
  return {
    async willSendResponse({ request, errors, response }) {
      if (response.http.status !== 400 || response.body.kind !== 'single') return;
      if (response.body.singleResult.data !== undefined && response.body.singleResult.data !== null) return;
      if (errors?.length && errors.every(isDocumentRequestError)) if (request.http) requestErrorsOnly.add(request.http);
    },
  };
}

/** Whether this HTTP request (the object handed to executeHTTPGraphQLRequest) failed only on its document or variables. */
export function failedOnDocumentOnly(httpRequest: object): boolean {
  return requestErrorsOnly.has(httpRequest);
}

function isDocumentRequestError(error: GraphQLError): boolean {
  const code = error.extensions?.code;
  if (code === 'GRAPHQL_PARSE_FAILED' || code === 'GRAPHQL_VALIDATION_FAILED') return true;
  // graphql-js's variable coercion errors point at the variable's definition, and nothing else does.
  return code === 'BAD_USER_INPUT' && error.nodes?.length === 1 && error.nodes[0].kind === Kind.VARIABLE_DEFINITION;
}
