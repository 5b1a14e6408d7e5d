import DataLoader from 'dataloader';
import { assertValidClientId, assertValidInstanceId } from './client-id';
import { ForbiddenError, InvalidInputError } from './errors';
import type { LookupAllowance } from './fair-share';
import { PresenceKeyMap } from './presence-key-map';
import type { PresenceKey, PresenceLookup, PresenceResult, PresenceStatus } from './types';

export interface PresenceLoaderOptions {
  /** Distinct Client IDs one request may look up, all fields, aliases and `_entities` together. */
  maxIdsPerRequest: number;
  /**
   * Whether the caller may ask about a device (its instances and Group IDs). A key outside it fails
   * with FORBIDDEN and is never sent upstream. @default every device
   */
  scope?: (key: PresenceKey) => boolean;
  /**
   * The caller's fair share of lookups per second, handed to the lookup: every distinct key that needs
   * a call of its own takes one (not one the cache answers or another request is already looking up;
   * an exact lookup always does); a key over the share fails with RATE_LIMITED and is never sent
   * upstream. @default unlimited
   */
  allowance?: LookupAllowance;
}

/** How fresh a request's answer is: what an HTTP cache may be told about keeping it. */
export interface AnswerFreshness {
  /** The earliest `checkedAtMs` among the statuses the request was given; Infinity if none. */
  oldestCheckedAtMs: number;
  /** Whether any of them was a last known status served because the upstream failed. */
  stale: boolean;
}

/**
 * The per-request entry point of the presence core: one instance per GraphQL request (never shared
 * between requests or kept across subscription events). Every `load` made while the request's
 * resolvers run in the same tick lands in one DataLoader batch, de-duplicated by key; the batch goes
 * to the process-wide `PresenceLookup`, which packs it into 10-ID upstream calls.
 */
export class RequestPresence {
  /**
   * Made on the first load `loadNow` cannot answer: a request answered wholly from the in-process
   * cache (the usual one under load) never needs it, nor its key map and closures.
   */
  private cached: DataLoader<PresenceKey, PresenceStatus, PresenceKey> | undefined;
  /** Made on the first exact load: most requests never ask for one. */
  private exact: DataLoader<PresenceKey, PresenceStatus, PresenceKey> | undefined;
  /**
   * The distinct keys let through so far, by either loader or `loadNow`: what the per-request ID cap
   * counts. A key `loadNow` answered holds its status, so the request sees one status per device.
   */
  private readonly admitted = new PresenceKeyMap<PresenceStatus | true>();
  /** The last instance ID found valid: a request's keys nearly always share one, checked once. */
  private validInstanceId: string | undefined;
  private readonly freshness: AnswerFreshness = { oldestCheckedAtMs: Infinity, stale: false };

  constructor(
    private readonly lookup: PresenceLookup,
    private readonly options: PresenceLoaderOptions,
  ) {
    if (!Number.isInteger(options.maxIdsPerRequest) || options.maxIdsPerRequest < 1) {
      throw new TypeError(`maxIdsPerRequest must be a positive whole number; got ${options.maxIdsPerRequest}`);
    }
  }

  /** The statuses this request has been given so far: how long its answer may be kept (HTTP caching). */
  answerFreshness(): Readonly<AnswerFreshness> {
    return this.freshness;
  }

  /** The status of one device; rejects with a typed error for that device alone. */
  load(key: PresenceKey, options?: { exact?: boolean }): Promise<PresenceStatus> {
    if (!options?.exact) {
      const known = this.admitted.get(key);
      if (known !== undefined && known !== true) return Promise.resolve(known);
      // No maxBatchSize: chunking into 10-ID calls happens in the dispatcher, across requests. Each
      // loader de-duplicates by the key's value in a PresenceKeyMap (why not by presenceKeyId: see there).
      this.cached ??= new DataLoader((keys) => this.guarded(keys, (valid) => this.lookup.lookup(valid, this.options.allowance)).then(this.noteAnswers), {
        cacheMap: new PresenceKeyMap(),
      });
      return this.cached.load(key);
    }
    this.exact ??= new DataLoader((keys) => this.guarded(keys, (valid) => this.lookup.lookupExact(valid, this.options.allowance)).then(this.noteAnswers), {
      cacheMap: new PresenceKeyMap(),
    });
    return this.exact.load(key);
  }

  /**
   * The status of one device at once, when the lookup can answer it from an in-process cache;
   * undefined when only `load` can (not cached, a shared cache, or no such cache). The same checks as
   * `load` come first, and a refused key throws its error here. Within the request the answer is
   * final: a later `load` or `loadNow` of the key gets the same status.
   */
  loadNow(key: PresenceKey): PresenceStatus | undefined {
    if (!this.lookup.cachedNow) return undefined;
    const known = this.admitted.get(key);
    // Already let through to the loader: its answer is this request's, even if the cache has since
    // been filled (a second execution of the operation over this context must see the same status).
    if (known === true) return undefined;
    if (known !== undefined) return known;
    const refusal = this.refusalOf(key);
    if (refusal !== undefined) throw refusal;
    const status = this.lookup.cachedNow(key);
    if (status !== undefined) {
      this.admitted.set(key, status);
      this.noteAnswer(status);
    }
    return status;
  }

  private noteAnswer(status: PresenceStatus): void {
    if (status.checkedAtMs < this.freshness.oldestCheckedAtMs) this.freshness.oldestCheckedAtMs = status.checkedAtMs;
    if (status.stale) this.freshness.stale = true;
  }

  /** One pass per batch, not a callback per key. */
  private readonly noteAnswers = (results: PresenceResult[]): PresenceResult[] => {
    for (const result of results) if (!(result instanceof Error)) this.noteAnswer(result);
    return results;
  };

  /**
   * Everything that must hold before a key may be looked up, in order: a well-formed key, inside the
   * caller's scope, within the per-request ID cap (the caller's fair share is the lookup's to
   * spend, since only it knows which keys the cache answers). The GraphQL layer
   * checks the cap on the whole operation first; this is the backstop for IDs it cannot see
   * statically, so the cap holds however the IDs arrive. Scope lives here, not in the resolvers, so
   * every way in (fields, aliases, federation `__resolveReference`) is covered by one check.
   *
   * When every key passes, the common case, the lookup's answer array is the batch's: no second
   * array, no remapping and no extra promise. Not `async` for that reason, so a throw is turned into
   * a rejection by hand, as an async function would.
   */
  private guarded(
    keys: readonly PresenceKey[],
    send: (valid: PresenceKey[]) => Promise<PresenceResult[]>,
  ): Promise<PresenceResult[]> {
    try {
      const valid: PresenceKey[] = [];
      // Parallel to `keys`, made at the first key refused: that key's error, or undefined.
      let refusals: Array<Error | undefined> | undefined;
      for (let index = 0; index < keys.length; index++) {
        const key = keys[index];
        const refusal = this.refusalOf(key);
        if (refusal === undefined) {
          valid.push(key);
        } else {
          (refusals ??= new Array<Error | undefined>(keys.length))[index] = refusal;
        }
      }
      if (refusals === undefined) return send(valid);
      return this.answerPartly(keys, refusals, valid, send);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Some keys were refused: looks up the rest and puts every answer and error in its key's place. */
  private async answerPartly(
    keys: readonly PresenceKey[],
    refusals: Array<Error | undefined>,
    valid: PresenceKey[],
    send: (valid: PresenceKey[]) => Promise<PresenceResult[]>,
  ): Promise<PresenceResult[]> {
    const answers = valid.length > 0 ? await send(valid) : [];
    const results: PresenceResult[] = new Array(keys.length);
    let next = 0;
    for (let index = 0; index < keys.length; index++) results[index] = refusals[index] ?? answers[next++];
    return results;
  }

  /** Why a key may not be looked up (malformed, out of scope, over the ID cap), or undefined if it may. */
  private refusalOf(key: PresenceKey): Error | undefined {
    // Admitted only once well-formed and in scope: a key let through before (by `loadNow`, or the
    // other loader) needs no second check.
    if (this.admitted.has(key)) return undefined;
    try {
      if (key.instanceId !== this.validInstanceId) {
        assertValidInstanceId(key.instanceId);
        this.validInstanceId = key.instanceId;
      }
      assertValidClientId(key.clientId);
      this.assertInScope(key);
      this.admit(key);
      return undefined;
    } catch (error) {
      return error as Error;
    }
  }

  private assertInScope(key: PresenceKey): void {
    if (this.options.scope && !this.options.scope(key)) {
      throw new ForbiddenError(`Client ID ${JSON.stringify(key.clientId)} of instance ${JSON.stringify(key.instanceId)} is outside this caller's scope`);
    }
  }

  /** Counts a key against the per-request cap the first time it is let through (`refusalOf` skips admitted keys). */
  private admit(key: PresenceKey): void {
    if (this.admitted.size >= this.options.maxIdsPerRequest) {
      throw new InvalidInputError(`This request asks for more than ${this.options.maxIdsPerRequest} distinct Client IDs (MAX_IDS_PER_REQUEST)`);
    }
    this.admitted.set(key, true);
  }
}
