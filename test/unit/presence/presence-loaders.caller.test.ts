import { PresenceErrorCode } from '../../../src/presence/errors';
import type { LookupAllowance } from '../../../src/presence/fair-share';
import { RequestPresence } from '../../../src/presence/presence-loaders';
import type { PresenceKey, PresenceLookup, PresenceResult } from '../../../src/presence/types';
import { key, recordingAllowance as allowance } from './fake-session-api';

// Real timers here: DataLoader schedules its batches with process.nextTick, which fake timers replace.

/** A PresenceLookup that records the Client IDs of every call and answers each online. */
class RecordingLookup implements PresenceLookup {
  readonly calls: string[][] = [];
  readonly allowances: Array<LookupAllowance | undefined> = [];
  async lookup(keys: readonly PresenceKey[], allowance?: LookupAllowance): Promise<PresenceResult[]> {
    this.calls.push(keys.map((k) => k.clientId));
    this.allowances.push(allowance);
    return keys.map(() => ({ online: true, checkedAtMs: 0, stale: false, origin: 'upstream' as const }));
  }
  async lookupExact(keys: readonly PresenceKey[], allowance?: LookupAllowance): Promise<PresenceResult[]> {
    return this.lookup(keys, allowance);
  }
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

  it('hands the caller\'s allowance to the lookup with each batch of distinct, admitted keys, exact ones too', async () => {
    const lookup = new RecordingLookup();
    const share = allowance(10);
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100, allowance: share });
    await Promise.all([presence.load(key(1)), presence.load(key(2)), presence.load(key(1))]);
    await presence.load(key(3), { exact: true });
    expect(lookup.calls).toEqual([[key(1).clientId, key(2).clientId], [key(3).clientId]]);
    expect(lookup.allowances).toEqual([share, share]);
    // The lookup spends it (only it knows which keys the cache answers); the loader never does.
    expect(share.asked).toEqual([]);
  });

  it('answers each key in its place when some are malformed or out of scope, looking up only the rest', async () => {
    const lookup = new RecordingLookup();
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100, scope: (k) => k.clientId !== key(2).clientId });
    const results = await Promise.allSettled([
      presence.load({ instanceId: key(0).instanceId, clientId: 'nope' }),
      presence.load(key(1)),
      presence.load(key(2)),
      presence.load(key(3)),
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? 'online' : (r.reason as { code: string }).code))).toEqual([
      PresenceErrorCode.BadUserInput,
      'online',
      PresenceErrorCode.Forbidden,
      'online',
    ]);
    expect(lookup.calls).toEqual([[key(1).clientId, key(3).clientId]]);
  });
});
