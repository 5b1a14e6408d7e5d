import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import type { GraphQLContext } from '../../graphql/context';

/** The hooks this service's request plugins use: each is awaited by Apollo and returns no listener of its own. */
export type RequestHooks = Pick<
  GraphQLRequestListener<GraphQLContext>,
  'didResolveSource' | 'didResolveOperation' | 'didEncounterErrors' | 'responseForOperation' | 'willSendResponse'
>;

/**
 * This service's request plugins (cache headers, the subscription refusal, the document-error status,
 * the request limits, the error log, compiled execution) as ONE Apollo plugin with one listener, built
 * once: each keeps no state per request.
 *
 * Why one: Apollo calls every plugin's `requestDidStart` on every request (an async call each), and
 * then awaits each hook over every listener with `Promise.all` (and `responseForOperation` one
 * listener after another), defined or not. With six listeners that was about thirty promises per
 * request for five hooks, of which each listener defines one. Here a hook that one listener defines is
 * that listener's own function, and one that several define runs them as Apollo would: all of them at
 * once, awaited together (`responseForOperation`: in order, until one answers).
 *
 * `hooks` run in the order given, as the plugins' order did.
 */
export function requestListenersPlugin(hooks: ReadonlyArray<RequestHooks>): ApolloServerPlugin<GraphQLContext> {
  const listener: GraphQLRequestListener<GraphQLContext> = {
    didResolveSource: together(hooks, 'didResolveSource'),
    didResolveOperation: together(hooks, 'didResolveOperation'),
    didEncounterErrors: together(hooks, 'didEncounterErrors'),
    responseForOperation: firstAnswer(hooks),
    willSendResponse: together(hooks, 'willSendResponse'),
  };
  for (const name of Object.keys(listener) as Array<keyof typeof listener>) {
    if (listener[name] === undefined) delete listener[name];
  }
  return {
    async requestDidStart() {
      return listener;
    },
  };
}

type VoidHook = 'didResolveSource' | 'didResolveOperation' | 'didEncounterErrors' | 'willSendResponse';

function together<K extends VoidHook>(hooks: ReadonlyArray<RequestHooks>, name: K): RequestHooks[K] {
  const defined = hooks.flatMap((hook) => (hook[name] ? [hook[name].bind(hook)] : [])) as Array<(context: unknown) => Promise<void>>;
  if (defined.length === 0) return undefined;
  if (defined.length === 1) return defined[0] as RequestHooks[K];
  return (async (context: unknown) => {
    await Promise.all(defined.map((hook) => hook(context)));
  }) as RequestHooks[K];
}

function firstAnswer(hooks: ReadonlyArray<RequestHooks>): RequestHooks['responseForOperation'] {
  const defined = hooks.flatMap((hook) => (hook.responseForOperation ? [hook.responseForOperation.bind(hook)] : []));
  if (defined.length === 0) return undefined;
  if (defined.length === 1) return defined[0];
  return async (context) => {
    for (const hook of defined) {
      const answer = await hook(context);
      if (answer !== null && answer !== undefined) return answer;
    }
    return null;
  };
}
