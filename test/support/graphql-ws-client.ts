import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';

/** A graphql-ws client for the service at `httpUrl` (same URL, ws:), as a Node app would make it. */
export function graphqlWsClient(httpUrl: string, connectionParams?: Record<string, unknown>): Client {
  return createClient({ url: httpUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

/** What ended a subscription: GraphQL errors (refused), or a closed socket (code and reason). */
export type SubscriptionEnd = { errors: readonly GraphQLFormattedError[] } | { closeCode: number; reason: string } | { completed: true };

export interface TestSubscription<TData> {
  /** The next result, or a failure naming `what` after `timeoutMs` (a deadline, not a sleep). */
  next(what: string, timeoutMs?: number): Promise<FormattedExecutionResult<TData>>;
  /** How the subscription ended, or a failure after `timeoutMs`. */
  ended(timeoutMs?: number): Promise<SubscriptionEnd>;
  /** Results received and not yet taken by `next`. */
  readonly buffered: number;
  unsubscribe(): void;
}

/** Subscribes and queues what arrives, so a test can await each event with a deadline. */
export function subscribe<TData, TVariables extends Record<string, unknown>>(
  client: Client,
  query: string | TypedDocumentNode<TData, TVariables>,
  variables?: TVariables,
): TestSubscription<TData> {
  const results: Array<FormattedExecutionResult<TData>> = [];
  let wake: (() => void) | undefined;
  let end: SubscriptionEnd | undefined;
  const settle = (): void => {
    wake?.();
    wake = undefined;
  };
  const unsubscribe = client.subscribe<TData>(
    { query: typeof query === 'string' ? query : print(query), variables },
    {
      next: (result) => {
        results.push(result as FormattedExecutionResult<TData>);
        settle();
      },
      error: (error: unknown) => {
        end = Array.isArray(error)
          ? { errors: error as GraphQLFormattedError[] }
          : { closeCode: (error as { code?: number }).code ?? -1, reason: String((error as { reason?: string }).reason ?? error) };
        settle();
      },
      complete: () => {
        end ??= { completed: true };
        settle();
      },
    },
  );
  const until = async <T>(what: string, timeoutMs: number, ready: () => T | undefined): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = ready();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
  return {
    next: (what, timeoutMs = 5000) =>
      until(what, timeoutMs, () => {
        if (results.length > 0) return results.shift();
        if (end) throw new Error(`the subscription ended while waiting for ${what}: ${JSON.stringify(end)}`);
        return undefined;
      }),
    ended: (timeoutMs = 5000) => until('the subscription to end', timeoutMs, () => end),
    get buffered() {
      return results.length;
    },
    unsubscribe,
  };
}
