import { ApolloServerErrorCode } from '@apollo/server/errors';
import { parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { tallyRequestedDevices, type DistinctDevices } from '../../graphql/requested-devices';
import { refusal, type HttpRefusal } from '../http/http-refusal';
import { overCostError, tooManyDevicesError } from './request-limits.plugin';

export interface OperationBatchLimits {
  /** Operations one HTTP request (a JSON array body) may carry. */
  maxOperationsPerBatch: number;
  /** Distinct Client IDs all operations of the batch together may ask for (MAX_IDS_PER_REQUEST). */
  maxIdsPerRequest: number;
  /** Device fields all operations of the batch together may return (MAX_QUERY_COST). */
  maxCost: number;
  defaultInstanceId?: string;
}

/**
 * Operation batching (a JSON array of operations in one POST, as Apollo Client's BatchHttpLink sends)
 * is allowed, and a batch is ONE request: Apollo builds one context for it, so its operations share
 * one DataLoader and the MAX_IDS_PER_REQUEST budget. This check runs before Apollo sees the batch:
 *   - more than `maxOperationsPerBatch` operations → 400, nothing runs;
 *   - more than `maxIdsPerRequest` distinct devices over all operations → 400, no upstream call;
 *   - more than `maxCost` device fields over all operations → 400: ten operations each just within
 *     the cost would otherwise make one request ten times dearer.
 * The per-operation check (request-limits.plugin.ts) cannot do the second: Apollo runs the operations
 * of a batch concurrently, so one could already be calling upstream when a later one finds the total
 * over the cap. Operations that do not parse are left to Apollo, which answers them one by one.
 */
export function operationBatchLimits(schema: GraphQLSchema, limits: OperationBatchLimits): (body: unknown) => HttpRefusal | undefined {
  return (body) => {
    if (!Array.isArray(body)) return undefined;
    if (body.length > limits.maxOperationsPerBatch) {
      return refusal(400, `This request batches ${body.length} operations; at most ${limits.maxOperationsPerBatch} are allowed per HTTP request`);
    }
    // One distinct-device set for the whole batch: the first tally makes it, the others add to it.
    let keys: DistinctDevices | undefined;
    let cost = 0;
    for (const operation of body) {
      const document = parseQuietly(operation?.query);
      if (!document) continue;
      // Ill-typed operationName or variables: counted as absent here, and Apollo refuses them anyway.
      const operationName = typeof operation.operationName === 'string' ? operation.operationName : undefined;
      const variables = isPlainObject(operation.variables) ? operation.variables : undefined;
      const tally = tallyRequestedDevices(schema, document, operationName, variables, limits.defaultInstanceId, keys);
      keys = tally.keys;
      cost += tally.cost;
    }
    if (keys && keys.size > limits.maxIdsPerRequest) {
      const error = tooManyDevicesError(keys.size, limits.maxIdsPerRequest, `This batch of ${body.length} operations`);
      return refusal(400, error.message, String(error.extensions.code));
    }
    if (cost > limits.maxCost) {
      const error = overCostError(cost, limits.maxCost, `This batch of ${body.length} operations`);
      return refusal(400, error.message, String(error.extensions.code));
    }
    return undefined;
  };
}

/**
 * MAX_QUERY_BYTES: an operation whose query text is longer is refused with 413 before Apollo parses
 * it or, with Automatic Persisted Queries, stores it (in Redis, for a day): registering a query
 * would otherwise let a caller fill the store for free. Applies to a single POST body, each
 * operation of a batch, and the `query` parameter of a GET.
 */
export function queryTextLimit(maxQueryBytes: number): (body: unknown, search: string) => HttpRefusal | undefined {
  // Runs on every request, so it allocates nothing and only measures UTF-8 bytes when the text could
  // be over (a UTF-16 code unit is at most 3 bytes). A query parameter given twice is an array.
  const tooLong = (text: unknown, nested = false): boolean => {
    if (Array.isArray(text)) return !nested && text.some((item) => tooLong(item, true));
    return typeof text === 'string' && text.length * 3 > maxQueryBytes && Buffer.byteLength(text, 'utf8') > maxQueryBytes;
  };
  return (body, search) => {
    const over = Array.isArray(body)
      ? body.some((operation) => isPlainObject(operation) && tooLong(operation.query))
      : isPlainObject(body) && tooLong(body.query);
    // A GET's query parameter; a search string shorter than the limit cannot hold a longer query.
    if (over || (search.length > maxQueryBytes && tooLong(new URLSearchParams(search).getAll('query')))) {
      return refusal(413, `The query text is longer than ${maxQueryBytes} bytes (MAX_QUERY_BYTES)`, ApolloServerErrorCode.BAD_REQUEST);
    }
    return undefined;
  };
}

function parseQuietly(query: unknown): DocumentNode | undefined {
  if (typeof query !== 'string') return undefined;
  try {
    return parse(query);
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
