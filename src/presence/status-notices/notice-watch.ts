import { UpstreamUnavailableError } from '../errors';
import { WatcherRegistry, type PresenceListener, type PresenceWatch } from '../presence-watch';
import { presenceKeyId, type PresenceKey, type PresenceLookup } from '../types';
import type { PresenceChangeFeed } from './presence-change-feed';

export interface NoticeWatchOptions {
  /** The instance whose notices are consumed; keys of another go to `otherInstances`. */
  instanceId: string;
  feed: PresenceChangeFeed;
  /** For each key's first status: the table when it can answer, the dispatcher otherwise. */
  lookup: PresenceLookup;
  /** Keys of instances without notices: the poller on Alibaba Cloud; absent, they are refused with `refuseOtherInstance`. */
  otherInstances?: PresenceWatch;
  refuseOtherInstance?: (instanceId: string) => Error;
}

/**
 * Subscriptions pushed from the status notices, within milliseconds of the notice and with no upstream
 * call per change: every change the table makes (on any replica, through the change feed) goes to the
 * watchers of its device. ONE per process, one feed listener however many subscribers there are.
 */
export class NoticeWatch implements PresenceWatch {
  private readonly registry = new WatcherRegistry();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(private readonly options: NoticeWatchOptions) {
    this.unsubscribe = options.feed.subscribe((change) => {
      this.registry.notify({ key: change.key, online: change.online, at: new Date(change.atMs), initial: false, origin: 'events' });
    });
  }

  watch(keys: readonly PresenceKey[], listener: PresenceListener, owner?: string): () => void {
    if (this.closed) throw new UpstreamUnavailableError('The presence service is shutting down');
    const ours = keys.filter((key) => key.instanceId === this.options.instanceId);
    const theirs = keys.filter((key) => key.instanceId !== this.options.instanceId);
    if (theirs.length > 0 && !this.options.otherInstances) {
      throw this.options.refuseOtherInstance?.(theirs[0].instanceId) ?? new UpstreamUnavailableError(`No presence source watches instance ${JSON.stringify(theirs[0].instanceId)}`);
    }
    const unwatchTheirs = theirs.length > 0 ? this.options.otherInstances!.watch(theirs, listener, owner) : () => undefined;
    // Keys this listener has heard about, so a first status never follows (and contradicts) a change.
    const told = new Set<string>();
    const unwatchOurs = this.registry.add(ours, (change) => {
      told.add(presenceKeyId(change.key));
      listener(change);
    });
    let active = true;
    if (ours.length > 0) void this.tellFirstStatuses(ours, listener, told, () => active);
    return () => {
      active = false;
      unwatchOurs();
      unwatchTheirs();
    };
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    this.registry.clear();
  }

  /** A key whose first status cannot be had (the upstream failing) waits for its first change instead. */
  private async tellFirstStatuses(keys: PresenceKey[], listener: PresenceListener, told: Set<string>, active: () => boolean): Promise<void> {
    const answers = await this.options.lookup.lookup(keys).catch(() => []);
    keys.forEach((key, i) => {
      const answer = answers[i];
      const id = presenceKeyId(key);
      if (!active() || answer === undefined || answer instanceof Error || told.has(id)) return;
      told.add(id);
      listener({ key, online: answer.online, at: new Date(answer.checkedAtMs), initial: true, origin: answer.origin });
    });
  }
}
