import { createHash } from 'node:crypto';
import { refusal, type HttpRefusal } from '../http/http-refusal';

/** The client mistakes with Automatic Persisted Queries this service names (its public codes). */
export enum PersistedQueryMistake {
  /** `extensions.persistedQuery.version` other than 1, the only version of the protocol. */
  VersionUnsupported = 'PERSISTED_QUERY_VERSION_UNSUPPORTED',
  /** A query sent with a `sha256Hash` that is not the SHA-256 of its text. */
  HashMismatch = 'PERSISTED_QUERY_HASH_MISMATCH',
}

/**
 * Automatic Persisted Queries, the mistakes a client makes: answered 400 with a code naming the
 * mistake before Apollo sees them. Apollo answers both with an error that has no code, which
 * formatError (rightly) turns into INTERNAL_SERVER_ERROR and the error log into an error line with a
 * stack: anyone could write 10,000 such lines with 1,000 batches. A client's mistake is no line at
 * all. PERSISTED_QUERY_NOT_FOUND (a hash the cache does not hold) is not a mistake but the protocol's
 * first step, and stays as Apollo answers it: clients rely on it to send the text.
 *
 * Every operation of a body (one, or each of a batch: one mistake refuses the batch) and a GET's
 * `extensions` parameter.
 */
export function persistedQueryChecks(): (body: unknown, search: string) => HttpRefusal | undefined {
  return (body, search) => {
    for (const operation of Array.isArray(body) ? body : [body]) {
      if (!isObject(operation) || !isObject(operation.extensions)) continue;
      const mistake = mistakeIn(operation.extensions.persistedQuery, operation.query);
      if (mistake) return mistake;
    }
    // Only a search that could hold one is parsed: the name is never percent-encoded.
    if (!search.includes('persistedQuery')) return undefined;
    const params = new URLSearchParams(search);
    let extensions: unknown;
    try {
      extensions = JSON.parse(params.get('extensions') ?? 'null');
    } catch {
      return undefined; // Apollo answers malformed JSON in a parameter with its own 400
    }
    return isObject(extensions) ? mistakeIn(extensions.persistedQuery, params.get('query') ?? undefined) : undefined;
  };
}

function mistakeIn(persistedQuery: unknown, query: unknown): HttpRefusal | undefined {
  if (!isObject(persistedQuery)) return undefined;
  if (persistedQuery.version !== 1) {
    return refusal(400, 'Unsupported persisted query version: only version 1 of Automatic Persisted Queries exists', PersistedQueryMistake.VersionUnsupported);
  }
  if (typeof query === 'string' && createHash('sha256').update(query).digest('hex') !== persistedQuery.sha256Hash) {
    return refusal(400, 'The persisted query hash (sha256Hash) is not the SHA-256 of the query sent with it', PersistedQueryMistake.HashMismatch);
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
