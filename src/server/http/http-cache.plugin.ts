import { Kind, visit, type DocumentNode } from 'graphql';
import type { AnswerFreshness } from '../../presence/presence-loaders';
import type { RequestHooks } from './request-listeners.plugin';

/**
 * The Cache-Control of every GraphQL answer over HTTP (Apollo's own cache-control plugin is installed
 * with its headers switched off, so this is the one place that decides):
 *
 * - A GET query that succeeded and asks for no `exact` answer: `private, max-age=<seconds>`, where
 *   the seconds are what is left of PRESENCE_CACHE_TTL_MS for the oldest status in the answer (whole
 *   seconds, rounded down). The service would answer the same from its own cache for that long, so
 *   a browser keeping the answer as long shows nothing older than the service itself would, and
 *   repeated dashboard GETs cost no round trip. `private` because an answer depends on the caller's
 *   credentials and scope: no shared cache (CDN, proxy) may hand it to someone else.
 * - Everything else: `no-store`. POSTs are not cached by browsers anyway; errors must not stick; an
 *   `exact` answer was asked for because it must be now; a stale status (the upstream failing) must
 *   be replaced as soon as the upstream answers again; and less than a second left is nothing.
 */
export function httpCacheHooks(options: { cacheTtlMs: number }): RequestHooks {
  return {
    async willSendResponse({ request, response, operation, document, contextValue }) {
      const cacheable =
        request.http?.method === 'GET' &&
        operation?.operation === 'query' &&
        response.body.kind === 'single' &&
        !response.body.singleResult.errors &&
        document !== undefined &&
        !asksForExactAnswers(document);
      // No request presence (no context was built): nothing says how fresh the answer is.
      const freshness = cacheable ? contextValue?.presence?.answerFreshness() : undefined;
      const maxAgeSeconds = freshness ? browserMaxAgeSeconds(options.cacheTtlMs, freshness, Date.now()) : 0;
      if (maxAgeSeconds < 1) {
        response.http.headers.set('cache-control', 'no-store');
        return;
      }
      response.http.headers.set('cache-control', `private, max-age=${maxAgeSeconds}`);
      // A browser switching API keys (GraphiQL's headers editor) must not see the other key's answer.
      const vary = response.http.headers.get('vary');
      response.http.headers.set('vary', [vary, 'Authorization', 'X-API-Key'].filter(Boolean).join(', '));
    },
  };
}

/**
 * Whole seconds a browser may keep an answer: what is left of the cache TTL for its oldest status
 * (all of it for an answer with no status), 0 when a status is stale.
 */
export function browserMaxAgeSeconds(cacheTtlMs: number, freshness: Readonly<AnswerFreshness>, nowMs: number): number {
  if (freshness.stale) return 0;
  const ageMs = Math.max(0, nowMs - freshness.oldestCheckedAtMs);
  return Math.max(0, Math.floor((cacheTtlMs - ageMs) / 1000));
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
