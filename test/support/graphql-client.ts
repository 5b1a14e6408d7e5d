import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';

export interface GraphQLResponse<TData> {
  status: number;
  data?: TData | null;
  errors?: GraphQLFormattedError[];
}

/** Posts an operation the way a frontend does (JSON body) and returns the status and the parsed body. */
export async function postGraphQL<TData = Record<string, unknown>, TVariables = Record<string, unknown>>(
  url: string,
  query: string | TypedDocumentNode<TData, TVariables>,
  variables?: TVariables,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<TData>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: typeof query === 'string' ? query : print(query), variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<TData>, 'status'>;
  return { status: response.status, ...body };
}

/** The errors of a response keyed by their path (`devices.3.online`), for per-ID assertions. */
export function errorsByPath(errors: readonly GraphQLFormattedError[] = []): Map<string, GraphQLFormattedError> {
  return new Map(errors.map((error) => [(error.path ?? []).join('.'), error]));
}
