import type { AuthMode } from '../../config/auth';
import type { PresenceSource } from '../../config';

/**
 * Apollo's CSRF prevention, with the rule this service serves clients' default transports by.
 *
 * A "simple" cross-site request (a GET, or a form POST, which a page can make its visitors' browsers
 * send with no CORS preflight) must not make the service do billed work. Apollo refuses a GET (or a
 * POST that is not JSON) unless it carries one of `requestHeaders`. Besides Apollo's own two, the
 * credential headers count: `Authorization` and `X-API-Key` are not CORS-safelisted, so a page on
 * another origin can only send them after a preflight that CORS_ORIGINS answers, exactly like
 * `Apollo-Require-Preflight`. With AUTH_MODE=apikey or jwt every request that gets this far carries
 * one (the rest are 401 before Apollo), so urql's and graphql-request's GETs pass as they are.
 *
 * The anonymous local instance (PRESENCE_SOURCE=local, AUTH_MODE=none) answers from its own emulator:
 * a forged GET there bills nobody, and what it answers no other origin can read (CORS; DNS rebinding
 * is refused by ALLOWED_HOSTS). CSRF prevention is off there, so every client's defaults work with
 * no configuration. An anonymous service on the billed source (ALLOW_ANONYMOUS=true) keeps it.
 */
export const CSRF_REQUEST_HEADERS: readonly string[] = Object.freeze([
  'x-apollo-operation-name',
  'apollo-require-preflight',
  'authorization',
  'x-api-key',
]);

export function csrfPrevention(deployment: { source: PresenceSource; authMode: AuthMode }): false | { requestHeaders: string[] } {
  if (deployment.source === 'local' && deployment.authMode === 'none') return false;
  return { requestHeaders: [...CSRF_REQUEST_HEADERS] };
}
