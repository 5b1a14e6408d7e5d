import DataLoader from 'dataloader';
import { assertValidInstanceId, parseClientId } from './client-id';
import { InvalidInputError } from './errors';
import { presenceKeyId, type PresenceKey, type PresenceLookup, type PresenceResult, type PresenceStatus } from './types';

export interface PresenceLoaderOptions {
  /** Distinct Client IDs one request may look up, all fields, aliases and `_entities` together. */
  maxIdsPerRequest: number;
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
    this.cached = new DataLoader((keys) => this.guarded(keys, (valid) => this.lookup.lookup(valid)), { cacheKeyFn: presenceKeyId });
    this.exact = new DataLoader((keys) => this.guarded(keys, (valid) => this.lookup.lookupExact(valid)), { cacheKeyFn: presenceKeyId });
  }

  /** The status of one device; rejects with a typed error for that device alone. */
  load(key: PresenceKey, options: { exact?: boolean } = {}): Promise<PresenceStatus> {
    return (options.exact ? this.exact : this.cached).load(key);
  }

  /**
   * Validates keys and enforces the per-request ID cap before anything goes upstream. The GraphQL
   * layer checks the cap on the whole operation first; this is the backstop for IDs it cannot see
   * statically, so the cap holds however the IDs arrive.
   */
  private async guarded(
    keys: readonly PresenceKey[],
    send: (valid: PresenceKey[]) => Promise<PresenceResult[]>,
  ): Promise<PresenceResult[]> {
    const results: PresenceResult[] = new Array(keys.length);
    const valid: PresenceKey[] = [];
    const validAt: number[] = [];
    keys.forEach((key, index) => {
      try {
        assertValidInstanceId(key.instanceId);
        parseClientId(key.clientId);
        this.admit(key);
        valid.push(key);
        validAt.push(index);
      } catch (error) {
        results[index] = error as Error;
      }
    });
    if (valid.length > 0) {
      const answers = await send(valid);
      answers.forEach((answer, i) => (results[validAt[i]] = answer));
    }
    return results;
  }

  private admit(key: PresenceKey): void {
    const id = presenceKeyId(key);
    if (this.seen.has(id)) return;
    if (this.seen.size >= this.options.maxIdsPerRequest) {
      throw new InvalidInputError(`This request asks for more than ${this.options.maxIdsPerRequest} distinct Client IDs (MAX_IDS_PER_REQUEST)`);
    }
    this.seen.add(id);
  }
}
