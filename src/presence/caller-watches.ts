import { InvalidInputError, RateLimitedError } from './errors';
import type { FairShare } from './fair-share';
import { assertNumberOption } from './options';
import type { PresenceListener, PresenceWatch } from './presence-watch';
import { presenceKeyId, type PresenceKey } from './types';

export interface CallerWatchesOptions {
  /** Distinct devices one caller may watch at once, over all its subscriptions and sockets (MAX_WATCHED_DEVICES_PER_CALLER). */
  maxDevicesPerCaller: number;
  /** The lookup share (CALLER_LOOKUPS_PER_SECOND): a device a caller starts watching costs one lookup. Absent: not charged. */
  lookups?: FairShare;
}

/**
 * What each caller watches through subscriptions: ONE per process, in front of the process's one
 * watch. Without it, one key opened 20 sockets × 20 subscriptions × 100 made-up IDs: 40,000 watched
 * devices, which the poller billed for as long as the sockets stayed open while another caller's
 * device waited more than a minute for its turn. So, per caller:
 *   - at most `maxDevicesPerCaller` distinct devices at once, wherever they are watched from (the
 *     status notices push some, the poller polls the rest: the cap holds across both);
 *   - a device it does not watch yet costs one lookup of its share, as a query for it would (its first
 *     status is one), so opening and closing subscriptions is no way around CALLER_LOOKUPS_PER_SECOND;
 *   - its name goes with the watch, so the poller shares its rounds between callers (presence-poller.ts).
 * A refused subscription watches nothing and costs no upstream call. In memory per replica, like the shares.
 */
export class CallerWatches {
  /** Per caller, how many of its subscriptions watch each device (by key id); a caller goes when it watches none. */
  private readonly watching = new Map<string, Map<string, number>>();
  /** Over all callers, how many subscriptions watch each device: its size is the replica's watched devices. */
  private readonly everyone = new Map<string, number>();
  private activeSubscriptions = 0;
  private readonly maxDevicesPerCaller: number;

  constructor(
    private readonly watch: PresenceWatch,
    private readonly options: CallerWatchesOptions,
  ) {
    assertNumberOption('CallerWatches', 'maxDevicesPerCaller', options.maxDevicesPerCaller, { min: 1, integer: true });
    this.maxDevicesPerCaller = options.maxDevicesPerCaller;
  }

  /** The watch as one caller sees it: cheap to make (one per subscription, or per event). */
  for(caller: string): Pick<PresenceWatch, 'watch'> {
    return { watch: (keys, listener) => this.watchAs(caller, keys, listener) };
  }

  /** Devices the caller watches now (for tests and metrics). */
  watchedBy(caller: string): number {
    return this.watching.get(caller)?.size ?? 0;
  }

  /** Distinct devices watched on this replica, over every caller (presence_watched_devices). */
  get watchedDevices(): number {
    return this.everyone.size;
  }

  /** Subscriptions watching now, whatever their transport (presence_subscriptions). */
  get subscriptions(): number {
    return this.activeSubscriptions;
  }

  private watchAs(caller: string, keys: readonly PresenceKey[], listener: PresenceListener): () => void {
    const counts = this.watching.get(caller) ?? new Map<string, number>();
    const ids = keys.map(presenceKeyId);
    const added = new Set(ids.filter((id) => !counts.has(id))).size;
    if (counts.size + added > this.maxDevicesPerCaller) {
      throw new InvalidInputError(
        `This caller watches ${counts.size} distinct devices and this subscription would add ${added}; at most ${this.maxDevicesPerCaller} are allowed (MAX_WATCHED_DEVICES_PER_CALLER): end a subscription first`,
      );
    }
    if (added > 0 && this.options.lookups) {
      const { granted, retryAfterMs } = this.options.lookups.takeAll(caller, added);
      if (granted < added) {
        throw new RateLimitedError(
          `This subscription starts watching ${added} devices, which is more than is left of this caller's share of lookups per second (CALLER_LOOKUPS_PER_SECOND); retry after ${retryAfterMs} ms`,
          retryAfterMs,
        );
      }
    }
    const unwatch = this.watch.watch(keys, listener, caller);
    for (const id of ids) {
      counts.set(id, (counts.get(id) ?? 0) + 1);
      this.everyone.set(id, (this.everyone.get(id) ?? 0) + 1);
    }
    this.watching.set(caller, counts);
    this.activeSubscriptions++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      unwatch();
      this.activeSubscriptions--;
      for (const id of ids) {
        release(counts, id);
        release(this.everyone, id);
      }
      if (counts.size === 0 && this.watching.get(caller) === counts) this.watching.delete(caller);
    };
  }
}

/** One holder fewer for `id`; the entry goes with its last holder, so the maps stay bounded. */
function release(counts: Map<string, number>, id: string): void {
  const left = (counts.get(id) ?? 1) - 1;
  if (left > 0) counts.set(id, left);
  else counts.delete(id);
}
