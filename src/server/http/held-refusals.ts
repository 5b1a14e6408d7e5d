import type { ServerResponse } from 'node:http';
import { sendRefusal, type HttpRefusal } from './http-refusal';

/** Longest a refusal is held: a batch far over the share still hears within a second. */
const MAX_DELAY_MS = 1000;
/**
 * Refusals held at once per caller. A client holds one per connection it floods on; past this many
 * it is answered at once with its connection closed, so its next request costs it a new connection.
 */
const MAX_HELD_PER_CALLER = 32;

/**
 * Refusals answered late on purpose: a caller over its share of operations hears its 429 once its
 * retry time has passed (HttpRefusal.delayMs, at most a second), rather than at once. Answered at
 * once, a client that sends the next request as soon as the last is answered (eight connections
 * are enough) gets thousands of refusals a second, and each is a read, a write and a pass through
 * the event loop every other caller waits behind (`npm run bench -- --only=flood`). Held, each of
 * its connections costs one refusal per retry time, and a held refusal costs a timer: its body is
 * neither read nor parsed. A polite client, which waits for Retry-After anyway, sees no difference
 * but the wait. One per process.
 */
export class HeldRefusals {
  private readonly heldPerCaller = new Map<string, number>();

  constructor(private readonly limits: { maxDelayMs: number; maxHeldPerCaller: number } = { maxDelayMs: MAX_DELAY_MS, maxHeldPerCaller: MAX_HELD_PER_CALLER }) {}

  /** Answers `refused` now, or after its `delayMs` when the caller has room for one more held refusal. */
  answer(res: ServerResponse, caller: string, refused: HttpRefusal): void {
    const delayMs = Math.min(refused.delayMs ?? 0, this.limits.maxDelayMs);
    if (delayMs <= 0) return sendRefusal(res, refused);
    const held = this.heldPerCaller.get(caller) ?? 0;
    if (held >= this.limits.maxHeldPerCaller) return sendRefusal(res, { ...refused, headers: { ...refused.headers, connection: 'close' } });
    this.heldPerCaller.set(caller, held + 1);
    const release = () => {
      const left = (this.heldPerCaller.get(caller) ?? 1) - 1;
      if (left > 0) this.heldPerCaller.set(caller, left);
      else this.heldPerCaller.delete(caller);
    };
    // The client gave up waiting: nothing to answer, the timer and the count go.
    const onClose = () => {
      clearTimeout(timer);
      release();
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      release();
      sendRefusal(res, refused);
    }, delayMs);
    res.once('close', onClose);
  }

  /** Refusals held now, over every caller (for tests and metrics). */
  get size(): number {
    let total = 0;
    for (const held of this.heldPerCaller.values()) total += held;
    return total;
  }
}

/** A caller's refusal, held by `held` when there is one (/graphql and event streams), else answered at once. */
export function answerRefusal(held: HeldRefusals | undefined, res: ServerResponse, caller: string, refused: HttpRefusal): void {
  if (held) held.answer(res, caller, refused);
  else sendRefusal(res, refused);
}
