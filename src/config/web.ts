/** What browsers may do: cross-origin callers, and the self-hosted GraphiQL page. */
import { ConfigError, flag, parsedUrl, text, type Env } from './env';

export interface WebConfig {
  /** Origins allowed cross-origin (CORS, and the Origin of WebSocket upgrades); empty: same origin only. */
  corsOrigins: readonly string[];
  /** Whether a browser asking for GET /graphql gets the self-hosted GraphiQL. */
  graphiqlEnabled: boolean;
}

export function webConfig(env: Env, nodeEnv: string): WebConfig {
  return {
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    // On by default while developing; production turns it on explicitly.
    graphiqlEnabled: flag(env, 'GRAPHIQL_ENABLED', nodeEnv !== 'production'),
  };
}

/** A comma-separated list of exact origins (`https://app.example.com`, no path, no `*`). */
function origins(env: Env, name: string): string[] {
  const raw = text(env, name);
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const parsed = parsedUrl(entry);
      const originOnly = parsed && parsed.origin !== 'null' && parsed.pathname === '/' && !parsed.search && !parsed.hash && !parsed.username;
      if (!parsed || !originOnly) {
        throw new ConfigError(`${name} must list origins such as https://app.example.com (scheme, host and port only), comma-separated; got ${JSON.stringify(entry)}`);
      }
      // Browsers send the origin normalised (lower-case host, no default port): compare like with like.
      return parsed.origin;
    });
}
