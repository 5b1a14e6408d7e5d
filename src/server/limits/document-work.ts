import { ApolloServerErrorCode } from '@apollo/server/errors';
import { GraphQLError, Kind, parse, type ASTNode, type DocumentNode } from 'graphql';
import { refusal, type HttpRefusal } from '../http/http-refusal';
import { BoundedLru } from './bounded-lru';

/**
 * MAX_QUERY_FIELDS: the work a legal document may cost, bounded before validation does it.
 *
 * graphql-js's OverlappingFieldsCanBeMerged rule compares every pair of selections that share a
 * response name, and again inside each pair's sub-selections: `presence { online stale }` written 330
 * times in one selection set (7.6 KB, under MAX_QUERY_TOKENS, cost 0 on an empty list) took about
 * 60 ms of synchronous CPU. No validation rule can stop it, since all rules walk the document together
 * in one pass; so fields and fragment spreads are counted as written, once the text is parsed and
 * before anything validates it. The work is at worst quadratic in the count: at the default 250 it
 * is a few ms (bench: document-work), at 2,000 tokens' worth (about 1,000 fields) it was 130 ms.
 */
export function selectionsWritten(document: DocumentNode): number {
  let count = 0;
  // Iterative: a deeply nested document must not cost stack depth either.
  const pending: ASTNode[] = [...document.definitions];
  for (let node = pending.pop(); node; node = pending.pop()) {
    if (node.kind === Kind.FIELD || node.kind === Kind.FRAGMENT_SPREAD) count++;
    if ('selectionSet' in node && node.selectionSet) pending.push(...node.selectionSet.selections);
  }
  return count;
}

/** The refusal of a document over MAX_QUERY_FIELDS, with the code of the other document limits. */
export function tooManyFieldsError(count: number, maxFields: number): GraphQLError {
  return new GraphQLError(`This document selects ${count} fields and fragment spreads; at most ${maxFields} are allowed (MAX_QUERY_FIELDS)`, {
    extensions: { code: ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED, http: { status: 400 } },
  });
}

export interface DocumentWorkLimits {
  maxFields: number;
  /** MAX_QUERY_TOKENS: the parse here stops where Apollo's would. */
  maxTokens: number;
  /** Query texts remembered as within the limit, so a repeated one is not parsed twice. @default 1000 */
  maxRemembered?: number;
}

/**
 * The HTTP check of MAX_QUERY_FIELDS, before Apollo parses and validates: every operation of a body
 * (one, or each of a batch) and a GET's `query`. Apollo's document cache is keyed by the exact text,
 * so a document that differs by a comment is validated again; each such copy is refused here when
 * over the limit, costs a bounded few ms when within it, and counts against the caller's share of
 * operations (CALLER_OPERATIONS_PER_SECOND). Texts found within the limit are remembered (at most
 * `maxRemembered`, each at most MAX_QUERY_BYTES), so the usual repeated query is parsed once here.
 * A text that does not parse is left to Apollo, which answers it; a persisted query sent by its hash
 * alone was checked here when it was registered.
 */
export function documentWorkLimit(limits: DocumentWorkLimits): (body: unknown, search: string) => HttpRefusal | undefined {
  const within = new BoundedLru<string, true>(limits.maxRemembered ?? 1000);
  const over = (query: unknown): GraphQLError | undefined => {
    if (typeof query !== 'string' || within.get(query)) return undefined;
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: limits.maxTokens, noLocation: true });
    } catch {
      return undefined;
    }
    const count = selectionsWritten(document);
    if (count > limits.maxFields) return tooManyFieldsError(count, limits.maxFields);
    within.set(query, true);
    return undefined;
  };
  return (body, search) => {
    const operations = Array.isArray(body) ? body : [body];
    for (const operation of operations) {
      const error = isObject(operation) ? over(operation.query) : undefined;
      if (error) return refusal(400, error.message, String(error.extensions.code));
    }
    const error = search.includes('query=') ? over(new URLSearchParams(search).get('query')) : undefined;
    return error ? refusal(400, error.message, String(error.extensions.code)) : undefined;
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
