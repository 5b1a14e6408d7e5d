/**
 * Time as the presence core sees it: a clock and a cancellable sleep, both injectable so tests drive
 * them with jest's fake timers (which replace `Date.now` and `setTimeout`; the defaults follow).
 */

/** Milliseconds since the epoch, like `Date.now`. */
export type Clock = () => number;

/** Resolves after `ms`, or rejects with `signal.reason` as soon as `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const systemClock: Clock = () => Date.now();

export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    // The listener is removed when the timer fires: one long-lived signal sees many sleeps, and
    // leftover listeners would pile up on it.
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
