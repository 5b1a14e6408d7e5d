import { parseClientId } from '../../presence/client-id';
import type { PresenceKey } from '../../presence/types';

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

/**
 * The scope as the transport-free predicate the presence loaders take. A Client ID that does not
 * parse is out of every scope other than `*`, though the loader reports it as malformed first.
 */
export function scopePredicate(scope: Scope): (key: PresenceKey) => boolean {
  const allInstances = scope.instances.includes('*');
  // `*` for both: every key is in scope, so no Client ID needs parsing (the anonymous caller's case).
  if (allInstances && scope.groups.includes('*')) return allowAll;
  return (key) => {
    if (!allInstances && !scope.instances.some((pattern) => matchesPattern(pattern, key.instanceId))) return false;
    let groupId: string;
    try {
      groupId = parseClientId(key.clientId).groupId;
    } catch {
      return scope.groups.includes('*');
    }
    return scope.groups.some((pattern) => matchesPattern(pattern, groupId));
  };
}

function allowAll(): boolean {
  return true;
}
