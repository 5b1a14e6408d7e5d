import { MemoryPresenceCache } from '../../../src/presence/presence-cache';

beforeEach(() => jest.useFakeTimers({ now: 0 }));
afterEach(() => jest.useRealTimers());

describe('MemoryPresenceCache', () => {
  it('returns entries parallel to the keys, undefined where nothing is stored', async () => {
    const cache = new MemoryPresenceCache();
    await cache.setMany([['a', { online: true, checkedAtMs: 0 }]], 1000);
    expect(await cache.getMany(['b', 'a'])).toEqual([undefined, { online: true, checkedAtMs: 0 }]);
  });

  it('answers one key at once with getNow, as getMany would', async () => {
    const cache = new MemoryPresenceCache();
    await cache.setMany([['a', { online: true, checkedAtMs: 0 }]], 1000);
    expect(cache.getNow('a')).toEqual({ online: true, checkedAtMs: 0 });
    expect(cache.getNow('b')).toBeUndefined();
    jest.advanceTimersByTime(1000);
    expect(cache.getNow('a')).toBeUndefined();
  });

  it('drops an entry ttlMs after it was stored', async () => {
    const cache = new MemoryPresenceCache();
    await cache.setMany([['a', { online: false, checkedAtMs: 0 }]], 1000);
    jest.advanceTimersByTime(999);
    expect(await cache.getMany(['a'])).toEqual([{ online: false, checkedAtMs: 0 }]);
    jest.advanceTimersByTime(1);
    expect(await cache.getMany(['a'])).toEqual([undefined]);
  });

  it('keeps a status asked later than the one being stored, until it expires', async () => {
    const cache = new MemoryPresenceCache();
    await cache.setMany([['a', { online: false, checkedAtMs: 20 }]], 1000);
    await cache.setMany([['a', { online: true, checkedAtMs: 10 }], ['b', { online: true, checkedAtMs: 10 }]], 5000);
    expect(await cache.getMany(['a', 'b'])).toEqual([{ online: false, checkedAtMs: 20 }, { online: true, checkedAtMs: 10 }]);
    await cache.setMany([['a', { online: true, checkedAtMs: 20 }]], 1000);
    expect(cache.getNow('a')).toEqual({ online: true, checkedAtMs: 20 });
    jest.advanceTimersByTime(1000);
    await cache.setMany([['a', { online: false, checkedAtMs: 15 }]], 1000);
    expect(cache.getNow('a')).toEqual({ online: false, checkedAtMs: 15 });
  });

  it('keeps at most maxEntries, evicting the least recently used first', async () => {
    const cache = new MemoryPresenceCache({ maxEntries: 2 });
    const entry = { online: true, checkedAtMs: 0 };
    await cache.setMany([['a', entry], ['b', entry]], 1000);
    await cache.getMany(['a']); // a is now more recent than b
    await cache.setMany([['c', entry]], 1000);
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([entry, undefined, entry]);
  });

  it('stays least-recently-used over thousands of evictions, reads and re-inserts interleaved', async () => {
    // Below 4 entries the cache is exact LRU (no read slack), so a list kept in use order models it.
    const cache = new MemoryPresenceCache({ maxEntries: 3 });
    const model: string[] = [];
    const values = new Map<string, { online: boolean; checkedAtMs: number }>();
    let seed = 7;
    const random = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    for (let step = 0; step < 5000; step++) {
      const key = 'abcdefgh'[random(8)];
      if (random(2) === 0) {
        const value = { online: step % 2 === 0, checkedAtMs: step };
        values.set(key, value);
        await cache.setMany([[key, value]], 60_000);
        if (model.includes(key)) model.splice(model.indexOf(key), 1);
        model.push(key);
        if (model.length > 3) model.shift();
      } else {
        const expected = model.includes(key) ? values.get(key) : undefined;
        expect(cache.getNow(key)).toBe(expected);
        if (expected) model.push(...model.splice(model.indexOf(key), 1));
      }
    }
  });

  it('rejects a bad maxEntries with a message naming the option and the value', () => {
    expect(() => new MemoryPresenceCache({ maxEntries: 0 })).toThrow('MemoryPresenceCache: maxEntries must be a whole number ≥ 1; got 0');
  });
});
