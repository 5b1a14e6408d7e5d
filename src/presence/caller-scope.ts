import { matchesPattern, type Scope } from '../common/caller';
import { parseClientId } from './client-id';
import type { PresenceKey } from './types';

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

/** Whether the scope covers a whole group of an instance: what listing or counting the group needs. */
export function groupInScope(scope: Scope, instanceId: string, groupId: string): boolean {
  return scope.instances.some((pattern) => matchesPattern(pattern, instanceId)) && scope.groups.some((pattern) => matchesPattern(pattern, groupId));
}
