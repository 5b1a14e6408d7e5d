import type { PresenceChange, PresenceWatch } from './presence-watch';
import { presenceKeyId, type PresenceKey } from './types';

/**
 * One subscriber's view of a `PresenceWatch` as an async iterator (what a GraphQL subscription
 * returns), per subscription and ended by `return()`.
 *
 * Memory stays bounded by the number of watched keys whatever the consumer's speed: at most one
 * event per key waits, and a newer status of a key replaces the waiting one. A slow client (a
 * browser tab in the background, a congested socket) therefore gets each device's latest status,
 * never a backlog of flips it can no longer act on. A status equal to the last one delivered for
 * that key is dropped, so the subscriber sees changes only.
 *
 * Why not an async generator: `return()` on a generator waits until its pending `await` settles,
 * and a watch of quiet devices may have no next event for hours. Here `return()` ends the watch at
 * once and settles a waiting `next()`.
 */
export function presenceChangeStream(watch: Pick<PresenceWatch, 'watch'>, keys: readonly PresenceKey[]): AsyncIterableIterator<PresenceChange> {
  /** Insertion-ordered: the key that has waited longest goes first. */
  const waiting = new Map<string, PresenceChange>();
  const delivered = new Map<string, boolean>();
  let consumer: ((result: IteratorResult<PresenceChange>) => void) | undefined;
  let done = false;

  const take = (): PresenceChange | undefined => {
    for (const [id, change] of waiting) {
      waiting.delete(id);
      if (!change.initial && delivered.get(id) === change.online) continue;
      delivered.set(id, change.online);
      return change;
    }
    return undefined;
  };

  const unwatch = watch.watch(keys, (change) => {
    if (done) return;
    const id = presenceKeyId(change.key);
    const replaced = waiting.get(id);
    waiting.delete(id);
    // A change replacing the still-undelivered first status is, for this subscriber, the first status.
    waiting.set(id, replaced?.initial ? { ...change, initial: true } : change);
    if (!consumer) return;
    const next = take();
    if (!next) return;
    const resolve = consumer;
    consumer = undefined;
    resolve({ value: next, done: false });
  });

  const finish = (): IteratorResult<PresenceChange> => {
    if (!done) {
      done = true;
      unwatch();
      waiting.clear();
      consumer?.({ value: undefined, done: true });
      consumer = undefined;
    }
    return { value: undefined, done: true };
  };

  return {
    next() {
      if (done) return Promise.resolve({ value: undefined, done: true });
      const next = take();
      if (next) return Promise.resolve({ value: next, done: false });
      // One consumer calling next() after the previous one settled, as graphql-js does.
      return new Promise((resolve) => (consumer = resolve));
    },
    return() {
      return Promise.resolve(finish());
    },
    throw(error?: unknown) {
      finish();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
