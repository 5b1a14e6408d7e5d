import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, visit, type DocumentNode } from 'graphql';

/**
 * The Cache-Control of every GraphQL answer over HTTP (Apollo's own cache-control plugin is installed
 * with its headers switched off, so this is the one place that decides):
 *
 * - A GET query that succeeded, asks for no `exact` answer, with PRESENCE_CACHE_TTL_MS of at least a
 *   second: `private, max-age=<that TTL in whole seconds>`. The service would answer the same from
 *   its own cache for that long, so a browser keeping it as long loses no freshness, and repeated
 *   dashboard GETs cost no round trip. `private` because an answer depends on the caller's
 *   credentials and scope: no shared cache (CDN, proxy) may hand it to someone else.
 * - Everything else: `no-store`. POSTs are not cached by browsers anyway; errors must not stick; an
 *   `exact` answer was asked for because it must be now.
 */
export function httpCachePlugin(options: { cacheTtlMs: number }): ApolloServerPlugin {
  const maxAgeSeconds = Math.floor(options.cacheTtlMs / 1000);
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ request, response, operation, document }) {
          const cacheable =
            maxAgeSeconds >= 1 &&
            request.http?.method === 'GET' &&
            operation?.operation === 'query' &&
            response.body.kind === 'single' &&
            !response.body.singleResult.errors &&
            document !== undefined &&
            !asksForExactAnswers(document);
          if (!cacheable) {
            response.http.headers.set('cache-control', 'no-store');
            return;
          }
          response.http.headers.set('cache-control', `private, max-age=${maxAgeSeconds}`);
          // A browser switching API keys (GraphiQL's headers editor) must not see the other key's answer.
          const vary = response.http.headers.get('vary');
          response.http.headers.set('vary', [vary, 'Authorization', 'X-API-Key'].filter(Boolean).join(', '));
        },
      };
    },
  };
}

/** Any `exact:` argument other than a literal `false` (a variable may be true). */
function asksForExactAnswers(document: DocumentNode): boolean {
  let exact = false;
  visit(document, {
    Argument(node) {
      if (node.name.value === 'exact' && !(node.value.kind === Kind.BOOLEAN && !node.value.value)) exact = true;
    },
  });
  return exact;
}
