import { PresenceErrorCode } from '../../../src/presence/errors';
import { RequestPresence } from '../../../src/presence/presence-loaders';
import type { PresenceKey, PresenceLookup, PresenceResult, PresenceStatus } from '../../../src/presence/types';
import { FakeSessionApi, INSTANCE, dispatcherFor, key } from './fake-session-api';

// Real timers here: DataLoader schedules its batches with process.nextTick, which fake timers replace.

/** A PresenceLookup that records the keys of every call and answers each key online. */
class RecordingLookup implements PresenceLookup {
  readonly calls: Array<['lookup' | 'lookupExact', string[]]> = [];
  async lookup(keys: readonly PresenceKey[]): Promise<PresenceResult[]> {
    return this.answer('lookup', keys);
  }
  async lookupExact(keys: readonly PresenceKey[]): Promise<PresenceResult[]> {
    return this.answer('lookupExact', keys);
  }
  private answer(method: 'lookup' | 'lookupExact', keys: readonly PresenceKey[]): PresenceResult[] {
    this.calls.push([method, keys.map((k) => k.clientId)]);
    return keys.map(() => ({ online: true, checkedAtMs: 0, stale: false, origin: 'upstream' as const }));
  }
}

describe('RequestPresence', () => {
  it('collects the loads of one tick into one lookup, each distinct key once', async () => {
    const lookup = new RecordingLookup();
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100 });
    const answers = await Promise.all([presence.load(key(1)), presence.load(key(2)), presence.load(key(1)), presence.load({ ...key(1) })]);
    expect(lookup.calls).toEqual([['lookup', [key(1).clientId, key(2).clientId]]]);
    expect(answers.map((answer) => answer.online)).toEqual([true, true, true, true]);
  });

  it('sends exact loads to lookupExact, apart from cached ones', async () => {
    const lookup = new RecordingLookup();
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100 });
    await Promise.all([presence.load(key(1), { exact: true }), presence.load(key(1))]);
    expect(lookup.calls).toEqual(
      expect.arrayContaining([
        ['lookupExact', [key(1).clientId]],
        ['lookup', [key(1).clientId]],
      ]),
    );
  });

  it('rejects a malformed Client ID or instance ID with BAD_USER_INPUT without asking the upstream', async () => {
    const lookup = new RecordingLookup();
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100 });
    const [badClient, badInstance, good] = await Promise.allSettled([
      presence.load({ instanceId: INSTANCE, clientId: 'no-separator' }),
      presence.load({ instanceId: 'bad instance!', clientId: key(1).clientId }),
      presence.load(key(2)),
    ]);
    expect(badClient).toMatchObject({ status: 'rejected', reason: { code: PresenceErrorCode.BadUserInput } });
    expect(badInstance).toMatchObject({ status: 'rejected', reason: { code: PresenceErrorCode.BadUserInput } });
    expect(good).toMatchObject({ status: 'fulfilled' });
    expect(lookup.calls).toEqual([['lookup', [key(2).clientId]]]);
  });

  it('makes no lookup at all when every requested ID is malformed', async () => {
    const lookup = new RecordingLookup();
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100 });
    await expect(presence.load({ instanceId: INSTANCE, clientId: 'GID_x@@@a/b' })).rejects.toMatchObject({ code: PresenceErrorCode.BadUserInput });
    expect(lookup.calls).toEqual([]);
  });

  it('caps the distinct Client IDs of one request, across batches, with BAD_USER_INPUT beyond the cap', async () => {
    const lookup = new RecordingLookup();
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 3 });
    await Promise.all([presence.load(key(1)), presence.load(key(2))]);
    const [third, fourth, again] = await Promise.allSettled([presence.load(key(3)), presence.load(key(4)), presence.load({ ...key(1) })]);
    expect(third).toMatchObject({ status: 'fulfilled' });
    expect(fourth).toMatchObject({ status: 'rejected', reason: { code: PresenceErrorCode.BadUserInput, message: expect.stringContaining('more than 3') } });
    expect(again).toMatchObject({ status: 'fulfilled' });
    expect(lookup.calls.flatMap(([, ids]) => ids)).not.toContain(key(4).clientId);
  });

  it('keeps the same Client ID of two instances apart, and checks the instance ID of every key', async () => {
    const asked: string[] = [];
    const lookup: PresenceLookup = {
      lookup: async (keys) => {
        asked.push(...keys.map((k) => `${k.instanceId}/${k.clientId}`));
        return keys.map(() => ({ online: true, checkedAtMs: 0, stale: false, origin: 'upstream' as const }));
      },
      lookupExact: async () => [],
    };
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100 });
    const results = await Promise.allSettled([
      presence.load(key(1, 'mqtt-a')),
      presence.load({ instanceId: 'bad instance!', clientId: key(1).clientId }),
      presence.load(key(1, 'mqtt-b')),
      presence.load(key(2, 'mqtt-a')),
      presence.load({ instanceId: 'bad/instance', clientId: key(3).clientId }),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected']);
    expect(results[4]).toMatchObject({ reason: { code: PresenceErrorCode.BadUserInput } });
    expect(asked).toEqual([`mqtt-a/${key(1).clientId}`, `mqtt-b/${key(1).clientId}`, `mqtt-a/${key(2).clientId}`]);
  });

  it('counts a key asked for both exactly and from the cache once against the cap', async () => {
    const lookup = new RecordingLookup();
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 1 });
    await Promise.all([presence.load(key(1), { exact: true }), presence.load({ ...key(1) })]);
    await expect(presence.load(key(2))).rejects.toMatchObject({ code: PresenceErrorCode.BadUserInput });
    await expect(presence.load(key(1), { exact: true })).resolves.toMatchObject({ online: true });
  });

  it('fails every load of a batch whose lookup throws, and counts a key asked again after that once', async () => {
    let broken = true;
    const lookup: PresenceLookup = {
      lookup: (keys) => {
        if (broken) throw new Error('lookup broke');
        return Promise.resolve(keys.map(() => ({ online: true, checkedAtMs: 0, stale: false, origin: 'cache' as const })));
      },
      lookupExact: async () => [],
    };
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 1 });
    await expect(presence.load(key(1))).rejects.toThrow('lookup broke');
    broken = false;
    // DataLoader forgets the keys of a failed batch, so key 1 is looked up again: still one distinct ID.
    await expect(presence.load(key(1))).resolves.toMatchObject({ online: true });
  });

  it('shares upstream calls between requests through the process-wide dispatcher', async () => {
    const api = new FakeSessionApi();
    const dispatcher = dispatcherFor(api);
    const first = new RequestPresence(dispatcher, { maxIdsPerRequest: 100 });
    const second = new RequestPresence(dispatcher, { maxIdsPerRequest: 100 });
    await Promise.all([first.load(key(1)), first.load(key(2)), second.load(key(2)), second.load(key(3))]);
    expect(api.calls).toEqual([[key(1).clientId, key(2).clientId, key(3).clientId]]);
  });

  describe('loadNow: a status the lookup holds at once, without a promise', () => {
    /** A lookup whose cache holds `cached` (by Client ID); everything else goes through `lookup`. */
    class CachingLookup extends RecordingLookup {
      readonly asked: string[] = [];
      constructor(readonly cached: Map<string, PresenceStatus>) {
        super();
      }
      cachedNow(key: PresenceKey): PresenceStatus | undefined {
        this.asked.push(key.clientId);
        return this.cached.get(key.clientId);
      }
    }
    const status = (online: boolean): PresenceStatus => ({ online, checkedAtMs: 5, stale: false, origin: 'cache' });

    it('answers what the lookup holds at once, undefined for the rest, and nothing without such a lookup', () => {
      const lookup = new CachingLookup(new Map([[key(1).clientId, status(true)]]));
      const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100 });
      expect(presence.loadNow(key(1))).toEqual(status(true));
      expect(presence.loadNow(key(2))).toBeUndefined();
      expect(lookup.calls).toEqual([]);
      expect(new RequestPresence(new RecordingLookup(), { maxIdsPerRequest: 100 }).loadNow(key(1))).toBeUndefined();
    });

    it('keeps the first answer for the request: loadNow and load of the key get the same status after the cache changed', async () => {
      const cached = new Map([[key(1).clientId, status(true)]]);
      const lookup = new CachingLookup(cached);
      const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100 });
      const first = presence.loadNow(key(1));
      cached.set(key(1).clientId, status(false));
      expect(presence.loadNow(key(1))).toBe(first);
      await expect(presence.load(key(1))).resolves.toBe(first);
      expect(lookup.asked).toEqual([key(1).clientId]);
      expect(lookup.calls).toEqual([]);
    });

    it('keeps a status the loader answered for the request: loadNow leaves the key to load once the cache holds it', async () => {
      const cached = new Map<string, PresenceStatus>();
      const lookup = new CachingLookup(cached);
      const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100 });
      expect(presence.loadNow(key(1))).toBeUndefined();
      const loaded = await presence.load(key(1));
      // The lookup has since cached a different status (as the dispatcher caches what it fetched).
      cached.set(key(1).clientId, { ...loaded, origin: 'cache' });
      expect(presence.loadNow(key(1))).toBeUndefined();
      await expect(presence.load(key(1))).resolves.toBe(loaded);
      expect(lookup.calls).toEqual([['lookup', [key(1).clientId]]]);
    });

    it('throws the typed error of a refused key, before asking the lookup, and counts answered keys against the cap', () => {
      const lookup = new CachingLookup(new Map([[key(1).clientId, status(true)], [key(2).clientId, status(true)]]));
      const presence = new RequestPresence(lookup, { maxIdsPerRequest: 1, scope: (k) => k.clientId !== key(3).clientId });
      expect(() => presence.loadNow({ instanceId: INSTANCE, clientId: 'nope' })).toThrow(expect.objectContaining({ code: PresenceErrorCode.BadUserInput }));
      expect(() => presence.loadNow(key(3))).toThrow(expect.objectContaining({ code: PresenceErrorCode.Forbidden }));
      expect(presence.loadNow(key(1))?.online).toBe(true);
      expect(() => presence.loadNow(key(2))).toThrow(expect.objectContaining({ code: PresenceErrorCode.BadUserInput }));
      expect(lookup.asked).toEqual([key(1).clientId]);
    });
  });

  it('tells how fresh its answer is: the oldest status given by either path, and whether one was stale', async () => {
    const given = (checkedAtMs: number, stale = false): PresenceStatus => ({ online: true, checkedAtMs, stale, origin: stale ? 'stale' : 'upstream' });
    const answers = new Map([[key(1).clientId, given(300)], [key(2).clientId, given(200)], [key(3).clientId, given(100, true)]]);
    const lookup: PresenceLookup = {
      lookup: async (keys) => keys.map((k) => answers.get(k.clientId) ?? new Error('unknown')),
      lookupExact: async (keys) => keys.map((k) => answers.get(k.clientId)!),
      cachedNow: (k) => (k.clientId === key(4).clientId ? given(250) : undefined),
    };
    const presence = new RequestPresence(lookup, { maxIdsPerRequest: 100 });
    expect(presence.answerFreshness()).toEqual({ oldestCheckedAtMs: Infinity, stale: false });
    presence.loadNow(key(4));
    expect(presence.answerFreshness()).toEqual({ oldestCheckedAtMs: 250, stale: false });
    await Promise.all([presence.load(key(1)), presence.load(key(2)), presence.load(key(5)).catch(() => undefined)]);
    expect(presence.answerFreshness()).toEqual({ oldestCheckedAtMs: 200, stale: false });
    await presence.load(key(3), { exact: true });
    expect(presence.answerFreshness()).toEqual({ oldestCheckedAtMs: 100, stale: true });
  });

  it('rejects a bad maxIdsPerRequest with a message naming the option and the value', () => {
    expect(() => new RequestPresence(new RecordingLookup(), { maxIdsPerRequest: 0 })).toThrow('maxIdsPerRequest must be a positive whole number; got 0');
  });
});
