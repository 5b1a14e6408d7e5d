import { MAX_CLIENT_IDS_PER_BATCH_CALL } from './session-api';
import type { BatchChunk } from './budget-share';
import { presenceKeyId, type PresenceKey } from './types';

/** One owner's keys in one round, to move its cursor by those that were sent. */
export interface OwnedInRound {
  owner: string;
  ids: string[];
}

/**
 * The order the subscription poller asks about watched keys, fair between their owners (callers):
 * each owner's next key in turn, so one owner watching thousands of keys cannot hold back another's
 * one key, and when the budget share covers only part of a round, each owner's keys and the owners
 * themselves take turns from round to round. One per poller.
 */
export class FairRounds {
  /** Per owner, the keys it watches (how many of its watches hold each), in the order first watched. */
  private readonly owners = new Map<string, Map<string, { key: PresenceKey; watches: number }>>();
  /** Per owner, where its keys start next round (round robin when the share cannot cover them all). */
  private readonly cursors = new Map<string, number>();
  /** Which owner goes first next round, so that owners past the share's reach take turns too. */
  private ownerCursor = 0;

  /** Counts `keys` as watched by `owner`; the returned function uncounts them. */
  own(owner: string, keys: readonly PresenceKey[]): () => void {
    const owned = this.owners.get(owner) ?? new Map<string, { key: PresenceKey; watches: number }>();
    this.owners.set(owner, owned);
    const ids = keys.map(presenceKeyId);
    ids.forEach((id, i) => {
      const entry = owned.get(id);
      if (entry) entry.watches++;
      else owned.set(id, { key: keys[i], watches: 1 });
    });
    return () => {
      for (const id of ids) {
        const entry = owned.get(id);
        if (entry && --entry.watches === 0) owned.delete(id);
      }
      if (owned.size === 0 && this.owners.get(owner) === owned) {
        this.owners.delete(owner);
        this.cursors.delete(owner);
      }
    };
  }

  /**
   * This round's calls, fairest first: each owner's next key in turn (from where its keys stopped
   * last round), every key once, then packed per instance in that order. Also answers each owner's
   * keys, to move its cursor by those that were sent.
   */
  next(): { chunks: BatchChunk[]; owned: Array<{ owner: string; ids: string[] }> } {
    const owners = [...this.owners.entries()];
    if (owners.length === 0) return { chunks: [], owned: [] };
    const first = this.ownerCursor % owners.length;
    this.ownerCursor = first + 1;
    const lists = [...owners.slice(first), ...owners.slice(0, first)].map(([owner, owned]) => {
      const keys = [...owned.values()].map((entry) => entry.key);
      const start = (this.cursors.get(owner) ?? 0) % keys.length;
      return { owner, keys: [...keys.slice(start), ...keys.slice(0, start)] };
    });
    const ordered: PresenceKey[] = [];
    const seen = new Set<string>();
    const longest = Math.max(...lists.map((list) => list.keys.length));
    for (let i = 0; i < longest; i++) {
      for (const list of lists) {
        const key = list.keys[i];
        if (!key) continue;
        const id = presenceKeyId(key);
        if (seen.has(id)) continue;
        seen.add(id);
        ordered.push(key);
      }
    }
    return { chunks: chunkedInOrder(ordered), owned: lists.map((list) => ({ owner: list.owner, ids: list.keys.map(presenceKeyId) })) };
  }
  /** Each owner's keys start next round after those of its keys this one asked about. */
  sent(owned: readonly OwnedInRound[], sentChunks: readonly BatchChunk[]): void {
    const asked = new Set(sentChunks.flatMap((chunk) => chunk.keys.map(presenceKeyId)));
    for (const { owner, ids } of owned) {
      const count = ids.filter((id) => asked.has(id)).length;
      if (this.owners.has(owner)) this.cursors.set(owner, ((this.cursors.get(owner) ?? 0) + count) % ids.length);
    }
  }

  clear(): void {
    this.owners.clear();
    this.cursors.clear();
  }
}

/**
 * Keys packed into calls of one instance, at most 10 each (BatchQuerySessionByClientIds: at most 10
 * IDs per call), the calls in the order of their first key: the fair order survives the packing, so
 * one owner's single key of another instance is not left for after every chunk of the first.
 */
function chunkedInOrder(keys: readonly PresenceKey[]): BatchChunk[] {
  const chunks: BatchChunk[] = [];
  const open = new Map<string, BatchChunk>();
  for (const key of keys) {
    let chunk = open.get(key.instanceId);
    if (!chunk) {
      chunk = { instanceId: key.instanceId, keys: [] };
      chunks.push(chunk);
      open.set(key.instanceId, chunk);
    }
    chunk.keys.push(key);
    if (chunk.keys.length === MAX_CLIENT_IDS_PER_BATCH_CALL) open.delete(key.instanceId);
  }
  return chunks;
}
