import { presenceKeyId, type PresenceKey } from './types';

/**
 * A map keyed by a `PresenceKey`'s value, by instance ID then Client ID. Per request: each loader's
 * DataLoader cache (its `cacheMap`) and the keys admitted under the ID cap; per process: the ids the
 * dispatcher keeps (`PresenceKeyIds`).
 *
 * Why not a `Map` keyed by `presenceKeyId`: that builds a new string on every `load` and hashes it
 * whole, and the loader would build and hash it again to de-duplicate. Here no string is built, and
 * a Client ID's hash, computed on its first lookup, serves every later one (V8 keeps it in the string).
 */
export class PresenceKeyMap<V> {
  private readonly byInstance = new Map<string, Map<string, V>>();
  private count = 0;

  /** Distinct keys held, over all instances. */
  get size(): number {
    return this.count;
  }

  get(key: PresenceKey): V | undefined {
    return this.byInstance.get(key.instanceId)?.get(key.clientId);
  }

  has(key: PresenceKey): boolean {
    return this.byInstance.get(key.instanceId)?.has(key.clientId) ?? false;
  }

  set(key: PresenceKey, value: V): this {
    return this.setParts(key.instanceId, key.clientId, value);
  }

  /** `set` for a key given as its two parts, where making a key object would be the only reason to. */
  setParts(instanceId: string, clientId: string, value: V): this {
    let byClientId = this.byInstance.get(instanceId);
    if (byClientId === undefined) {
      byClientId = new Map();
      this.byInstance.set(instanceId, byClientId);
    }
    const before = byClientId.size;
    byClientId.set(clientId, value);
    this.count += byClientId.size - before;
    return this;
  }

  delete(key: PresenceKey): boolean {
    const deleted = this.byInstance.get(key.instanceId)?.delete(key.clientId) ?? false;
    if (deleted) this.count--;
    return deleted;
  }

  clear(): void {
    this.byInstance.clear();
    this.count = 0;
  }
}

/**
 * `presenceKeyId` of the keys seen lately, for the process-wide dispatcher: the same key asked again
 * (by the next request, with a new Client ID string) gets the same id string back, already hashed,
 * so the cache and the pending lookups find it without building and hashing a new one. Forgets
 * everything once it holds `maxKeys` (keys come from callers); the ids are simply built again.
 */
export class PresenceKeyIds {
  private readonly known = new PresenceKeyMap<string>();

  constructor(private readonly maxKeys: number) {}

  /** Keys whose id is kept now: never more than `maxKeys`. */
  get size(): number {
    return this.known.size;
  }

  idOf(key: PresenceKey): string {
    let id = this.known.get(key);
    if (id === undefined) {
      if (this.known.size >= this.maxKeys) this.known.clear();
      id = presenceKeyId(key);
      this.known.set(key, id);
    }
    return id;
  }
}
