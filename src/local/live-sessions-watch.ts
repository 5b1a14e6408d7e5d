import { InvalidInputError } from '../presence/errors';
import { WatcherRegistry, type PresenceListener, type PresenceWatch } from '../presence/presence-watch';
import type { LiveSessions, SessionChange } from './live-sessions';

/**
 * Presence changes of the local instance, pushed by its broker the moment a session opens or closes:
 * no polling and no upstream call. ONE per process, shared by every subscription; one listener on
 * `LiveSessions` however many subscribers there are.
 *
 * It reads the broker's live sessions, the truth, not the emulator's batch answers, which lag like
 * the cloud's internal cache (LOCAL_BATCH_LAG_MS): a subscriber hears about a disconnect at once.
 */
export class LiveSessionsWatch implements PresenceWatch {
  private readonly registry = new WatcherRegistry();
  private readonly onChange = (change: SessionChange): void => {
    this.registry.notify({ key: { instanceId: this.instanceId, clientId: change.clientId }, online: change.online, at: change.at, initial: false, origin: 'events' });
  };

  constructor(
    private readonly sessions: LiveSessions,
    private readonly instanceId: string,
  ) {
    sessions.on('change', this.onChange);
  }

  watch(keys: Parameters<PresenceWatch['watch']>[0], listener: PresenceListener): () => void {
    const foreign = keys.find((key) => key.instanceId !== this.instanceId);
    if (foreign) throw otherInstanceRefused(foreign.instanceId, this.instanceId);
    let active = true;
    let unwatch = (): void => undefined;
    // Registering and reading the current statuses in one synchronous step: no broker event can fall
    // between them, so the first status is never older than a change already delivered. A microtask,
    // so the caller has its unwatch function before the first event.
    queueMicrotask(() => {
      if (!active) return;
      unwatch = this.registry.add(keys, listener);
      const at = new Date();
      for (const key of keys) {
        if (active) listener({ key, online: this.sessions.isOnline(key.clientId), at, initial: true, origin: 'events' });
      }
    });
    return () => {
      active = false;
      unwatch();
    };
  }

  close(): void {
    this.sessions.off('change', this.onChange);
    this.registry.clear();
  }
}

/** The local instance has one instance: a subscription to another one is the caller's mistake. */
export function otherInstanceRefused(instanceId: string, localInstanceId: string): InvalidInputError {
  return new InvalidInputError(
    `Instance ${JSON.stringify(instanceId)} is not the local instance ${JSON.stringify(localInstanceId)}: with PRESENCE_SOURCE=local, subscriptions watch the embedded broker only`,
  );
}
