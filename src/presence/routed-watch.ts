import type { PresenceListener, PresenceWatch } from './presence-watch';
import type { PresenceKey } from './types';

/**
 * Subscriptions of a deployment with several accounts (INSTANCES_FILE): ONE per process, shared by
 * every subscription. Each key is watched by its instance's watch (one poller per account, polling
 * within that account's budget), so a subscription mixing instances of two accounts spends each
 * account's budget on its own devices only. A key of an instance no watch serves is refused, before
 * anything is watched, with the error `unknownInstance` makes (an InvalidInputError: BAD_USER_INPUT).
 */
export class RoutedWatch implements PresenceWatch {
  constructor(
    private readonly watchOf: (instanceId: string) => PresenceWatch | undefined,
    private readonly watches: readonly PresenceWatch[],
    private readonly unknownInstance: (instanceId: string) => Error,
  ) {}

  watch(keys: readonly PresenceKey[], listener: PresenceListener, owner?: string): () => void {
    const parts = new Map<PresenceWatch, PresenceKey[]>();
    for (const key of keys) {
      const watch = this.watchOf(key.instanceId);
      if (!watch) throw this.unknownInstance(key.instanceId);
      let part = parts.get(watch);
      if (!part) parts.set(watch, (part = []));
      part.push(key);
    }
    const unwatches: Array<() => void> = [];
    const unwatchAll = () => {
      for (const unwatch of unwatches.splice(0)) unwatch();
    };
    try {
      for (const [watch, part] of parts) unwatches.push(watch.watch(part, listener, owner));
    } catch (error) {
      unwatchAll();
      throw error;
    }
    return unwatchAll;
  }

  close(): void {
    for (const watch of this.watches) watch.close();
  }
}
