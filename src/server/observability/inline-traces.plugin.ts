import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTrace } from '@apollo/server/plugin/inlineTrace';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLContext } from '../../graphql/context';

/**
 * Apollo's inline traces (`apollo-federation-include-trace: ftv1`): per-field timings in every
 * answer, for a federation router's metrics. Apollo turns them on for any subgraph schema, for any
 * caller who sends the header; the timings tell an attacker how hard each field works (finding 1 of
 * the hardening issue could be watched that way). So they are off (Apollo's disabled plugin keeps it
 * from installing its own), and with INLINE_TRACE_CALLERS only those callers, named by their
 * authenticated identity, get them when they ask. Errors in traces are masked, as in answers.
 */
export function inlineTracesPlugins(trustedCallers: readonly string[]): Array<ApolloServerPlugin<GraphQLContext>> {
  const disabled = ApolloServerPluginInlineTraceDisabled() as ApolloServerPlugin<GraphQLContext>;
  if (trustedCallers.length === 0) return [disabled];
  const trusted = new Set(trustedCallers);
  const traces = ApolloServerPluginInlineTrace({ includeErrors: { masked: true } }) as ApolloServerPlugin<GraphQLContext>;
  return [
    disabled,
    {
      async requestDidStart(requestContext) {
        return trusted.has(requestContext.contextValue.caller.name) ? traces.requestDidStart?.(requestContext) : undefined;
      },
    },
  ];
}
