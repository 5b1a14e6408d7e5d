/**
 * What a caller may ask about, after Alibaba's RAM model for ApsaraMQ for MQTT: the instances, and
 * the Group IDs within them. Each entry is a pattern: an exact name, a prefix ending in `*`
 * (`GID_fleet-*`), or `*` alone for all. An empty list allows nothing.
 */
export interface Scope {
  readonly instances: readonly string[];
  readonly groups: readonly string[];
}

/** Who is asking: per request, built by the authenticator from the request's credentials. */
export interface Caller {
  /** The API key's name, the JWT subject, or `anonymous@<address>`: in logs, and the fair-share bucket. */
  readonly name: string;
  readonly scope: Scope;
  /** When the credentials stop being valid (a JWT's `exp`), in ms since the epoch; absent: never. */
  readonly expiresAtMs?: number;
}

/** Every device: the scope of anonymous callers (AUTH_MODE=none). */
export const UNRESTRICTED: Scope = Object.freeze({ instances: Object.freeze(['*']), groups: Object.freeze(['*']) });

export function matchesPattern(pattern: string, value: string): boolean {
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : value === pattern;
}
