import { matchesPattern, type Scope } from '../common/caller';
import { parseClientId } from './client-id';
import type { PresenceKey } from './types';

/**
 * Client IDs whose group verdict one scope remembers: a caller's fleet asked about again and again.
 * Emptied when full, so IDs a caller makes up cost it a re-check, never memory without bound.
 */
export const REMEMBERED_CLIENT_IDS_PER_SCOPE = 4096;

type ScopePredicate = (key: PresenceKey) => boolean;

// A caller's scope is one frozen object for the life of its API key (a JWT's per token): the
// predicate, and what it has learnt, last as long as that object and no longer.
const predicates = new WeakMap<Scope, ScopePredicate>();

/**
 * The scope as the transport-free predicate the presence loaders take. A Client ID that does not
 * parse is out of every scope other than `*`, though the loader reports it as malformed first.
 * One per scope object, built once: each request of an API key's caller reuses it.
 */
export function scopePredicate(scope: Scope): ScopePredicate {
  let predicate = predicates.get(scope);
  if (!predicate) {
    predicate = buildScopePredicate(scope);
    predicates.set(scope, predicate);
  }
  return predicate;
}

function buildScopePredicate(scope: Scope): ScopePredicate {
  const allInstances = scope.instances.includes('*');
  // `*` for both: every key is in scope, so no Client ID needs parsing (the anonymous caller's case).
  if (allInstances && scope.groups.includes('*')) return allowAll;
  const groupVerdicts = new Map<string, boolean>();
  const groupAllowed = (clientId: string): boolean => {
    let groupId: string;
    try {
      groupId = parseClientId(clientId).groupId;
    } catch {
      return scope.groups.includes('*');
    }
    return scope.groups.some((pattern) => matchesPattern(pattern, groupId));
  };
  // Requests mostly ask about one instance: its verdict is kept until another one is asked about.
  let lastInstanceId: string | undefined;
  let lastInstanceAllowed = false;
  return (key) => {
    if (!allInstances) {
      if (key.instanceId !== lastInstanceId) {
        lastInstanceAllowed = scope.instances.some((pattern) => matchesPattern(pattern, key.instanceId));
        lastInstanceId = key.instanceId;
      }
      if (!lastInstanceAllowed) return false;
    }
    // The group verdict depends on the Client ID alone: parsed and matched once, then remembered.
    let allowed = groupVerdicts.get(key.clientId);
    if (allowed === undefined) {
      allowed = groupAllowed(key.clientId);
      if (groupVerdicts.size >= REMEMBERED_CLIENT_IDS_PER_SCOPE) groupVerdicts.clear();
      groupVerdicts.set(key.clientId, allowed);
    }
    return allowed;
  };
}

function allowAll(): boolean {
  return true;
}

/** Whether the scope covers a whole group of an instance: what listing or counting the group needs. */
export function groupInScope(scope: Scope, instanceId: string, groupId: string): boolean {
  return scope.instances.some((pattern) => matchesPattern(pattern, instanceId)) && scope.groups.some((pattern) => matchesPattern(pattern, groupId));
}
