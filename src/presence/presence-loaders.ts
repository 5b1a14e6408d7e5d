import DataLoader from 'dataloader';
import { assertValidInstanceId, parseClientId } from './client-id';
import { ForbiddenError, InvalidInputError, RateLimitedError } from './errors';
import type { LookupAllowance } from './fair-share';
import { presenceKeyId, type PresenceKey, type PresenceLookup, type PresenceResult, type PresenceStatus } from './types';

export interface PresenceLoaderOptions {
  /** Distinct Client IDs one request may look up, all fields, aliases and `_entities` together. */
  maxIdsPerRequest: number;
  /**
   * Whether the caller may ask about a device (its instances and Group IDs). A key outside it fails
   * with FORBIDDEN and is never sent upstream. @default every device
   */
  scope?: (key: PresenceKey) => boolean;
  /**
   * The caller's fair share of lookups per second. Every distinct key the request looks up takes one,
   * whether the cache or the upstream answers it; a key over the share fails with RATE_LIMITED and is
   * never sent upstream. @default unlimited
   */
  allowance?: LookupAllowance;
}

/**
 * The per-request entry point of the presence core: one instance per GraphQL request (never shared
 * between requests or kept across subscription events). Every `load` made while the request's
 * resolvers run in the same tick lands in one DataLoader batch, de-duplicated by key; the batch goes
 * to the process-wide `PresenceLookup`, which packs it into 10-ID upstream calls.
 */
export class RequestPresence {
  private readonly cached: DataLoader<PresenceKey, PresenceStatus, string>;
  private readonly exact: DataLoader<PresenceKey, PresenceStatus, string>;
  private readonly seen = new Set<string>();

  constructor(
    private readonly lookup: PresenceLookup,
    private readonly options: PresenceLoaderOptions,
  ) {
    if (!Number.isInteger(options.maxIdsPerRequest) || options.maxIdsPerRequest < 1) {
      throw new TypeError(`maxIdsPerRequest must be a positive whole number; got ${options.maxIdsPerRequest}`);
    }
    // No maxBatchSize: chunking into 10-ID calls happens in the dispatcher, across requests.
    this.cached = new DataLoader((keys) => this.guarded(keys, (valid, ids) => this.lookup.lookup(valid, ids)), { cacheKeyFn: presenceKeyId });
    this.exact = new DataLoader((keys) => this.guarded(keys, (valid) => this.lookup.lookupExact(valid)), { cacheKeyFn: presenceKeyId });
  }

  /** The status of one device; rejects with a typed error for that device alone. */
  load(key: PresenceKey, options: { exact?: boolean } = {}): Promise<PresenceStatus> {
    return (options.exact ? this.exact : this.cached).load(key);
  }

  /**
   * Everything that must hold before a key may go upstream, in order: a well-formed key, inside the
   * caller's scope, within the per-request ID cap, within the caller's fair share. The GraphQL layer
   * checks the cap on the whole operation first; this is the backstop for IDs it cannot see
   * statically, so the cap holds however the IDs arrive. Scope lives here, not in the resolvers, so
   * every way in (fields, aliases, federation `__resolveReference`) is covered by one check.
   */
  private async guarded(
    keys: readonly PresenceKey[],
    send: (valid: PresenceKey[], ids: string[]) => Promise<PresenceResult[]>,
  ): Promise<PresenceResult[]> {
    const results: PresenceResult[] = new Array(keys.length);
    const valid: PresenceKey[] = [];
    const validAt: number[] = [];
    const validIds: string[] = [];
    keys.forEach((key, index) => {
      try {
        assertValidInstanceId(key.instanceId);
        parseClientId(key.clientId);
        this.assertInScope(key);
        const id = presenceKeyId(key);
        this.admit(id);
        valid.push(key);
        validAt.push(index);
        validIds.push(id);
      } catch (error) {
        results[index] = error as Error;
      }
    });
    this.spendAllowance(valid, validAt, validIds, results);
    if (valid.length > 0) {
      const answers = await send(valid, validIds);
      answers.forEach((answer, i) => (results[validAt[i]] = answer));
    }
    return results;
  }

  private assertInScope(key: PresenceKey): void {
    if (this.options.scope && !this.options.scope(key)) {
      throw new ForbiddenError(`Client ID ${JSON.stringify(key.clientId)} of instance ${JSON.stringify(key.instanceId)} is outside this caller's scope`);
    }
  }

  /** Keeps the keys the caller's share grants (in the order asked) and fails the rest in place. */
  private spendAllowance(valid: PresenceKey[], validAt: number[], validIds: string[], results: PresenceResult[]): void {
    if (!this.options.allowance || valid.length === 0) return;
    const { granted, retryAfterMs } = this.options.allowance.take(valid.length);
    if (granted === valid.length) return;
    const refused = new RateLimitedError(
      `This caller has used its share of lookups per second (CALLER_LOOKUPS_PER_SECOND); retry after ${retryAfterMs} ms`,
      retryAfterMs,
    );
    for (const index of validAt.splice(granted)) results[index] = refused;
    valid.splice(granted);
    validIds.splice(granted);
  }

  private admit(id: string): void {
    if (this.seen.has(id)) return;
    if (this.seen.size >= this.options.maxIdsPerRequest) {
      throw new InvalidInputError(`This request asks for more than ${this.options.maxIdsPerRequest} distinct Client IDs (MAX_IDS_PER_REQUEST)`);
    }
    this.seen.add(id);
  }
}
