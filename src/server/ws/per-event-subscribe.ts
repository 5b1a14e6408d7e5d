import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';

/**
 * graphql-js's `subscribe`, except that every event is executed with a context of its own.
 *
 * graphql-ws builds one context per operation, and graphql-js executes every event of a subscription
 * with it. Our context holds the request's DataLoaders, which cache: kept across events, an event's
 * `device { online }` would answer from the first event's lookup for the life of the subscription.
 * So the subscription starts with the operation's context (the `subscribe` resolver checks the
 * caller's IDs and scope with it), and each event runs with `contextForEvent(thatContext)`.
 */
export function subscribeWithContextPerEvent<TContext>(
  contextForEvent: (operationContext: TContext) => TContext,
): (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  return async (args) => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    const operationContext = args.contextValue as TContext;
    return mapAsyncIterator(stream, (payload) =>
      execute({ ...args, rootValue: payload, contextValue: contextForEvent(operationContext) }) as Promise<ExecutionResult> | ExecutionResult,
    );
  };
}

/**
 * Maps each value of an async iterator. Hand-written rather than an async generator for the reason
 * graphql-js gives for its own: `return()` must reach the source at once, even while `next()` waits
 * for an event that may never come, so an unsubscribing client stops its watch immediately.
 */
function mapAsyncIterator<T, U>(source: AsyncIterable<T>, map: (value: T) => Promise<U> | U): AsyncIterableIterator<U> {
  const iterator = source[Symbol.asyncIterator]();
  const mapResult = async (result: IteratorResult<T>): Promise<IteratorResult<U>> => {
    if (result.done) return { value: undefined, done: true };
    try {
      return { value: await map(result.value), done: false };
    } catch (error) {
      await iterator.return?.();
      throw error;
    }
  };
  return {
    next: () => iterator.next().then(mapResult),
    return: async () => (iterator.return ? mapResult(await iterator.return()) : { value: undefined, done: true }),
    throw: async (error?: unknown) => {
      if (iterator.throw) return mapResult(await iterator.throw(error));
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return typeof (value as AsyncIterable<T> | null)?.[Symbol.asyncIterator] === 'function';
}
