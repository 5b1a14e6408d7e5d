import { PresenceErrorCode } from '../../../src/presence/errors';
import type { LookupAllowance } from '../../../src/presence/fair-share';
import { RequestPresence } from '../../../src/presence/presence-loaders';
import type { PresenceKey, PresenceLookup, PresenceResult } from '../../../src/presence/types';
import { key } from './fake-session-api';

// Real timers here: DataLoader schedules its batches with process.nextTick, which fake timers replace.

/** A PresenceLookup that records the Client IDs of every call and answers each online. */
class RecordingLookup implements PresenceLookup {
  readonly calls: string[][] = [];
  async lookup(keys: readonly PresenceKey[]): Promise<PresenceResult[]> {
    this.calls.push(keys.map((k) => k.clientId));
    return keys.map(() => ({ online: true, checkedAtMs: 0, stale: false, origin: 'upstream' as const }));
  }
  async lookupExact(keys: readonly PresenceKey[]): Promise<PresenceResult[]> {
    return this.lookup(keys);
  }
}

/** An allowance holding `tokens` lookups, recording what was asked of it. */
function allowance(tokens: number): LookupAllowance & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    take(count) {
      asked.push(count);
      const granted = Math.min(count, tokens);
      tokens -= granted;
      return { granted, retryAfterMs: granted < count ? 700 : 0 };
    },
  };
}

describe('RequestPresence with a caller', () => {
  it('fails a key outside the scope with FORBIDDEN and never looks it up', async () => {
    const lookup = new RecordingLookup();
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100, scope: (k) => k.clientId !== key(2).clientId });
    const [allowed, forbidden] = await Promise.allSettled([presence.load(key(1)), presence.load(key(2))]);
    expect(allowed).toMatchObject({ status: 'fulfilled', value: { online: true } });
    expect(forbidden).toMatchObject({ status: 'rejected', reason: { code: PresenceErrorCode.Forbidden } });
    expect(lookup.calls).toEqual([[key(1).clientId]]);
  });

  it('checks the scope of exact lookups too', async () => {
    const lookup = new RecordingLookup();
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100, scope: () => false });
    await expect(presence.load(key(1), { exact: true })).rejects.toMatchObject({ code: PresenceErrorCode.Forbidden });
    expect(lookup.calls).toEqual([]);
  });

  it('reports a malformed ID as BAD_USER_INPUT even when out of scope, and spends no allowance on either', async () => {
    const lookup = new RecordingLookup();
    const share = allowance(10);
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100, scope: () => false, allowance: share });
    await expect(presence.load({ instanceId: key(1).instanceId, clientId: 'nope' })).rejects.toMatchObject({ code: PresenceErrorCode.BadUserInput });
    await expect(presence.load(key(1))).rejects.toMatchObject({ code: PresenceErrorCode.Forbidden });
    expect(share.asked).toEqual([]);
  });

  it('takes one lookup per distinct key and fails those over the allowance with RATE_LIMITED and retryAfterMs', async () => {
    const lookup = new RecordingLookup();
    const share = allowance(2);
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100, allowance: share });
    const results = await Promise.allSettled([presence.load(key(1)), presence.load(key(2)), presence.load(key(1)), presence.load(key(3))]);
    expect(share.asked).toEqual([3]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect(results[3]).toMatchObject({ reason: { code: PresenceErrorCode.RateLimited, retryAfterMs: 700 } });
    expect(lookup.calls).toEqual([[key(1).clientId, key(2).clientId]]);
  });

  it('answers each key in its place when some are malformed, some out of scope and some over the allowance', async () => {
    const lookup = new RecordingLookup();
    const share = allowance(2);
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100, scope: (k) => k.clientId !== key(2).clientId, allowance: share });
    const results = await Promise.allSettled([
      presence.load({ instanceId: key(0).instanceId, clientId: 'nope' }),
      presence.load(key(1)),
      presence.load(key(2)),
      presence.load(key(3)),
      presence.load(key(4)),
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? 'online' : (r.reason as { code: string }).code))).toEqual([
      PresenceErrorCode.BadUserInput,
      'online',
      PresenceErrorCode.Forbidden,
      'online',
      PresenceErrorCode.RateLimited,
    ]);
    expect(share.asked).toEqual([3]);
    expect(lookup.calls).toEqual([[key(1).clientId, key(3).clientId]]);
  });

  it('makes no lookup at all when the allowance is spent', async () => {
    const lookup = new RecordingLookup();
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100, allowance: allowance(0) });
    await expect(presence.load(key(1))).rejects.toMatchObject({ code: PresenceErrorCode.RateLimited });
    expect(lookup.calls).toEqual([]);
  });
});
