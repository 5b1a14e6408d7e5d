import type { ApolloServerPlugin, GraphQLRequestContext, GraphQLRequestListener, GraphQLResponse } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { BREAK, visit, type DocumentNode, type FormattedExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { GraphQLContext } from './context';

/**
 * Runs hot query operations as graphql-jit code instead of graphql-js: an operation is compiled into
 * a plain function over this schema the second time its document runs (a document sent once is not
 * worth a compilation, as Mercurius's `jit: 1`), and every later request with the same text runs it.
 * On an all-cached device query graphql-js walks the operation again for every device
 * (`getArgumentValues`, `completeValue`, `promiseForObject`, …).
 *
 * Why a plugin's `responseForOperation` and not Apollo's gateway interface (its other way to run
 * another executor): Apollo's gateway path wraps each request in an object with a getter/setter pair
 * that V8 keeps reachable until the next full GC, so every request's objects were promoted (bench/
 * perf-pass.md, fourth pass). `responseForOperation` runs after parsing, validation (with the limit
 * rules), `didResolveOperation` (the request limits and cost) and Automatic Persisted Queries, and
 * its answer goes through `willSendResponse` like any other.
 *
 * Only answers without errors are taken from the compiled code. An answer with an error (a field
 * that failed, a variable that does not fit) returns `null`, and Apollo executes the operation with
 * graphql-js over the same request context: the request's loaders already hold every status and
 * error it saw (keys are let through and looked up once per request), so graphql-js makes the same
 * answer, without a second lookup, and Apollo shapes, logs and formats its errors exactly as when
 * graphql-jit is off. A failing request pays the compiled run on top; only failing ones do.
 *
 * Left to graphql-js: subscriptions and mutations, introspection (`__schema`, `__type`), and requests
 * `skip` names (those that asked for inline traces: they time each field through graphql-js's hooks).
 * Compiled operations are kept per parsed document in a WeakMap: Apollo's document store (an LRU keyed
 * by the query's hash) hands back the same DocumentNode for the same text and lets it go when it evicts
 * it, so this cache is bounded by Apollo's.
 *
 * A compilation costs 2 to 8 ms of CPU on the benchmark machine, ten to forty times what graphql-js
 * takes to run the same small operation: a caller sending ever new documents must not be able to make
 * the server compile each. So at most `maxCompilationsPerSecond` compile in any second, process-wide;
 * a document over that runs on graphql-js, and is compiled on a later run that finds the budget free.
 *
 * Its answers are also written by the operation's own serialiser (`stringifyResult`, to be given to
 * Apollo Server's option of that name): graphql-jit derives from the operation a JSON schema of
 * exactly the fields it selects, and fast-json-stringify writes the answer from it, field by field,
 * where `JSON.stringify` looks every object up again (see `stringifyResult` below).
 */
export function compiledExecutionPlugin(
  schema: GraphQLSchema,
  options: { skip?: (request: GraphQLRequestContext<GraphQLContext>) => boolean; maxCompilationsPerSecond?: number } = {},
): ApolloServerPlugin<GraphQLContext> & CompiledExecution {
  const documents = new WeakMap<DocumentNode, CompiledDocument>();
  // The answers this plugin gave, until Apollo writes them: each one's `data` -> its operation's serialiser.
  const serialisers = new WeakMap<object, CompiledQuery['stringify']>();
  const budget = { second: 0, left: 0, perSecond: options.maxCompilationsPerSecond ?? MAX_COMPILATIONS_PER_SECOND };
  const mayCompile = (): boolean => {
    const second = Math.floor(Date.now() / 1000);
    if (second !== budget.second) {
      budget.second = second;
      budget.left = budget.perSecond;
    }
    return budget.left-- > 0;
  };
  const compiledFor = (document: DocumentNode, operationName: string): CompiledQuery | undefined => {
    let entry = documents.get(document);
    if (!entry) {
      documents.set(document, (entry = { runs: 0, introspects: selectsIntrospection(document), operations: new Map() }));
    }
    if (entry.introspects || ++entry.runs < RUNS_BEFORE_COMPILING) return undefined;
    let operation = entry.operations.get(operationName);
    if (operation === undefined) {
      if (!mayCompile()) return undefined;
      operation = compile(schema, document, operationName || undefined);
      entry.operations.set(operationName, operation);
    }
    return operation ?? undefined;
  };
  // One listener for every request: it keeps no per-request state.
  const listener: CompiledExecution['hooks'] = {
    async responseForOperation(requestContext) {
      const { operation, document, request, contextValue } = requestContext;
      if (operation?.operation !== 'query' || options.skip?.(requestContext)) return null;
      const compiled = compiledFor(document, request.operationName ?? '');
      if (!compiled) return null;
      const result = await compiled.query(undefined, contextValue, request.variables ?? {});
      if (result.errors !== undefined || result.data == null) return null;
      serialisers.set(result.data, compiled.stringify);
      return { http: NO_HTTP_CHANGE, body: { kind: 'single', singleResult: { data: result.data } } } satisfies GraphQLResponse;
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
    hooks: listener,
    /**
     * Apollo's `stringifyResult`: the same text as its default (`JSON.stringify(result)` and a newline).
     * An answer this plugin gave, untouched since (no errors, no extensions: `data` is all there is),
     * is written by its operation's serialiser; any other answer by `JSON.stringify`.
     */
    stringifyResult(result) {
      const serialise = result.errors === undefined && result.extensions === undefined && result.data ? serialisers.get(result.data) : undefined;
      return `${serialise ? serialise(result) : JSON.stringify(result)}\n`;
    },
  };
}

/**
 * The operation compiled with its own serialiser; without one when graphql-jit cannot derive it (it
 * knows only the built-in scalars, so an operation selecting `DateTimeISO` is serialised by
 * `JSON.stringify`); null when graphql-jit cannot compile the operation at all.
 */
function compile(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined): CompiledQuery | null {
  // Errors never leave the compiled code (graphql-js answers them), so no stack is worth capturing.
  const options = { disablingCapturingStackErrors: true };
  const serialised = compileQuery(schema, document, operationName, { ...options, customJSONSerializer: true });
  if (isCompiledQuery(serialised)) return serialised;
  const plain = compileQuery(schema, document, operationName, options);
  return isCompiledQuery(plain) ? plain : null;
}

export interface CompiledExecution {
  /** The plugin's one hook, for a host that runs its plugins' hooks together (server/http/request-listeners.plugin.ts). */
  hooks: Required<Pick<GraphQLRequestListener<GraphQLContext>, 'responseForOperation'>>;
  stringifyResult: (result: FormattedExecutionResult) => string;
}

/** A document is compiled on this run (its first ran on graphql-js). */
const RUNS_BEFORE_COMPILING = 2;
/** Process-wide: at most 20 × 2–8 ms of CPU a second go to compiling, whatever callers send. */
const MAX_COMPILATIONS_PER_SECOND = 20;
/** Merged into the response's head by Apollo, which only reads it: no status, no header of its own. */
const NO_HTTP_CHANGE = Object.freeze({ headers: new HeaderMap() });

interface CompiledDocument {
  runs: number;
  introspects: boolean;
  /** By operation name ('' for the only one); null: graphql-jit could not compile it. */
  operations: Map<string, CompiledQuery | null>;
}

function selectsIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}
