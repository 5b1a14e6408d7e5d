import type { PresenceKey } from './types';

/**
 * A map keyed by a `PresenceKey`'s value, by instance ID then Client ID. Per request: each loader's
 * DataLoader cache (its `cacheMap`) and the keys admitted under the ID cap.
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
    let byClientId = this.byInstance.get(key.instanceId);
    if (byClientId === undefined) {
      byClientId = new Map();
      this.byInstance.set(key.instanceId, byClientId);
    }
    const before = byClientId.size;
    byClientId.set(key.clientId, value);
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
