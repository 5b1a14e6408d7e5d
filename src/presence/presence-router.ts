import { InvalidInputError } from './errors';
import type { LookupAllowance } from './fair-share';
import type { PresenceKey, PresenceLookup, PresenceResult, PresenceStatus } from './types';

/**
 * The presence core of a deployment with several accounts (INSTANCES_FILE): ONE per process, shared
 * by every request. Each key goes to the lookup of its instance's route (a dispatcher with its
 * account's budget, breaker and upstream client); a request mixing instances is split by route and
 * each part goes in the same tick, so every route packs its own instances' IDs, 10 per call:
 * Σ ⌈distinct IDs per instance / 10⌉ calls, as one dispatcher would make them. An instance the
 * catalogue does not name fails as BAD_USER_INPUT, at its own key, with no call.
 *
 * Why routes rather than one dispatcher keyed by account: the circuit breaker is the dispatcher's own
 * state and its budgets are fixed at construction (presence-dispatcher.ts), so one dispatcher per
 * route (an account's instances at one endpoint) keeps circuits apart by construction, and the
 * dispatcher stays as it is. The routes of one account share its budget store, which also holds its
 * slow-down after a throttled answer (presence-core.ts); accounts share none.
 */
export class PresenceRouter implements PresenceLookup {
  constructor(
    /** The route of an instance, or undefined when the catalogue does not name it. */
    private readonly routeOf: (instanceId: string) => PresenceLookup | undefined,
    /** What an unknown instance is told, e.g. which file lists the instances. */
    private readonly unknownInstance: (instanceId: string) => Error = (instanceId) => new InvalidInputError(`Unknown instance ${JSON.stringify(instanceId)}`),
  ) {}

  lookup(keys: readonly PresenceKey[], allowance?: LookupAllowance): Promise<PresenceResult[]> {
    return this.routed(keys, (route, part) => route.lookup(part, allowance));
  }

  lookupExact(keys: readonly PresenceKey[], allowance?: LookupAllowance): Promise<PresenceResult[]> {
    return this.routed(keys, (route, part) => route.lookupExact(part, allowance));
  }

  cachedNow(key: PresenceKey): PresenceStatus | undefined {
    return this.routeOf(key.instanceId)?.cachedNow?.(key);
  }

  /**
   * Splits `keys` by route, asks every route at once (the same tick: each dispatcher's queues see
   * their keys together), and puts the answers back in the order asked. The allowance is one object
   * shared by the routes, so the caller's share is spent once across all of them.
   */
  private async routed(keys: readonly PresenceKey[], ask: (route: PresenceLookup, part: PresenceKey[]) => Promise<PresenceResult[]>): Promise<PresenceResult[]> {
    const results: PresenceResult[] = new Array(keys.length);
    const parts = new Map<PresenceLookup, { keys: PresenceKey[]; at: number[] }>();
    for (let i = 0; i < keys.length; i++) {
      const route = this.routeOf(keys[i].instanceId);
      if (!route) {
        results[i] = this.unknownInstance(keys[i].instanceId);
        continue;
      }
      let part = parts.get(route);
      if (!part) parts.set(route, (part = { keys: [], at: [] }));
      part.keys.push(keys[i]);
      part.at.push(i);
    }
    await Promise.all(
      [...parts].map(async ([route, part]) => {
        const answers = await ask(route, part.keys);
        for (let j = 0; j < answers.length; j++) results[part.at[j]] = answers[j];
      }),
    );
    return results;
  }
}
