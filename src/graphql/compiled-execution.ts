import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/**
 * Executes operations with graphql-jit instead of graphql-js: each operation is compiled once into a
 * plain function over this schema, and every later request with the same text runs that function.
 * On an all-cached 100-device query, graphql-js spent about a fifth of the server's CPU walking the
 * operation again for every device (`getArgumentValues`, `completeValue`, `promiseForObject`, …).
 *
 * Apollo Server's extension point for another executor is its gateway interface: `load` hands Apollo
 * the schema and an executor; parsing, validation (with our limit rules), Automatic Persisted Queries,
 * plugins, error formatting and the HTTP answer stay Apollo's. Compiled operations are kept per parsed
 * document in a WeakMap: Apollo's document store (an LRU keyed by the query's hash) hands back the
 * same DocumentNode for the same text, and lets it go when it evicts it, so this cache is bounded by
 * Apollo's.
 */
export function compiledExecution(schema: GraphQLSchema): GatewayInterface {
  // Per document, per operation name ('' for an anonymous or only operation).
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery>>();
  const executor: GatewayExecutor = async ({ document, operation: definition, request, context }) => {
    const operationName = request.operationName ?? '';
    let operations = compiled.get(document);
    if (!operations) {
      operations = new Map();
      compiled.set(document, operations);
    }
    let operation = operations.get(operationName);
    if (!operation) {
      const result = compileQuery(schema, document, operationName || undefined, {
        // Errors carry their path and locations; a stack trace of the compiled code helps nobody and
        // costs a capture per error.
        disablingCapturingStackErrors: true,
      });
      if (!isCompiledQuery(result)) return result;
      operation = result;
      operations.set(operationName, operation);
    }
    const variables = request.variables ?? {};
    const result = await operation.query(undefined, context, variables);
    if (!result.errors) return result;
    if (result.data === undefined) {
      // A request error: the variables do not fit the operation. graphql-js words these errors the
      // way Apollo recognises (and answers with 400 BAD_USER_INPUT); only refused requests pay for it.
      const coerced = getVariableValues(schema, definition.variableDefinitions ?? [], variables);
      if (coerced.errors) return { errors: coerced.errors };
    }
    return { ...result, errors: result.errors.map(asGraphQLJsError) };
  };
  const coreSupergraphSdl = printSchemaWithDirectives(schema);
  return {
    async load() {
      return { executor };
    },
    onSchemaLoadOrUpdate(callback) {
      // The schema never changes after start: one call, as Apollo expects before it serves.
      callback({ apiSchema: schema, coreSupergraphSdl });
      return () => {};
    },
    async stop() {},
  };
}

/**
 * graphql-jit's errors leave `extensions` undefined when the thrown error has none, and Apollo's error
 * formatting reads `extensions.code` before our `formatError` sees the error: a resolver's typed
 * error (BAD_USER_INPUT, FORBIDDEN, …) would come out as a formatting failure. Errors are rebuilt as
 * graphql-js ones, as graphql-js execution would have made them; only failed fields pay for it.
 */
function asGraphQLJsError(error: GraphQLError): GraphQLError {
  // Without a stack of its own: the new error takes the original error's stack (graphql-js copies it),
  // and the one V8 would capture here (this function, Apollo's executor) says nothing. Capturing it
  // and then overwriting it costs V8 a formatted stack trace, about 10 µs per failed field on this machine.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const rebuilt = new GraphQLError(error.message, {
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions,
  });
  Error.stackTraceLimit = stackTraceLimit;
  // graphql-jit has already turned the nodes into locations; graphql-js would show the same ones.
  (rebuilt as { locations?: GraphQLError['locations'] }).locations = error.locations;
  return rebuilt;
}
