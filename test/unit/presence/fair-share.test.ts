import { FairShare } from '../../../src/presence/fair-share';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

describe('FairShare', () => {
  it('grants a new caller one second of lookups at once, and no more', () => {
    const clock = manualClock();
    const share = new FairShare({ lookupsPerSecond: 20, clock: clock.now });
    expect(share.take('greedy', 15)).toEqual({ granted: 15, retryAfterMs: 0 });
    expect(share.take('greedy', 15)).toEqual({ granted: 5, retryAfterMs: 500 });
    expect(share.take('greedy', 1)).toEqual({ granted: 0, retryAfterMs: 50 });
  });

  it('refills at the configured rate, up to one second of lookups', () => {
    const clock = manualClock();
    const share = new FairShare({ lookupsPerSecond: 20, clock: clock.now });
    share.take('caller', 20);
    clock.advance(250);
    expect(share.take('caller', 10)).toEqual({ granted: 5, retryAfterMs: 250 });
    clock.advance(60_000);
    expect(share.take('caller', 30).granted).toBe(20);
  });

  it('grants all or nothing with takeAll, spending nothing when it refuses', () => {
    const clock = manualClock();
    const share = new FairShare({ lookupsPerSecond: 20, clock: clock.now });
    expect(share.takeAll('caller', 15)).toEqual({ granted: 15, retryAfterMs: 0 });
    expect(share.takeAll('caller', 10)).toEqual({ granted: 0, retryAfterMs: 250 });
    // The refused ten spent nothing: five are still there.
    expect(share.takeAll('caller', 5)).toEqual({ granted: 5, retryAfterMs: 0 });
  });

  it('says how long until a count could be granted, spending nothing (waitMs)', () => {
    const clock = manualClock();
    const share = new FairShare({ lookupsPerSecond: 20, clock: clock.now });
    expect(share.waitMs('caller', 1)).toBe(0);
    expect(share.takeAll('caller', 20).granted).toBe(20);
    expect(share.waitMs('caller', 1)).toBe(50);
    expect(share.waitMs('caller', 40)).toBe(1000);
    clock.advance(50);
    expect(share.waitMs('caller', 1)).toBe(0);
    // Asking spent nothing: the one token refilled is still there to take.
    expect(share.takeAll('caller', 1)).toEqual({ granted: 1, retryAfterMs: 0 });
  });

  it('keeps callers apart: one spending its share leaves the other its own', () => {
    const share = new FairShare({ lookupsPerSecond: 10, clock: manualClock().now });
    expect(share.take('greedy', 100).granted).toBe(10);
    expect(share.allowanceFor('polite').take(5)).toEqual({ granted: 5, retryAfterMs: 0 });
  });

  it('forgets idle callers when it holds too many, and still starts them with a full bucket', () => {
    const clock = manualClock();
    const share = new FairShare({ lookupsPerSecond: 10, maxCallers: 2, clock: clock.now });
    share.take('a', 10);
    share.take('b', 10);
    clock.advance(1000);
    expect(share.take('c', 10).granted).toBe(10);
    expect(share.take('a', 10).granted).toBe(10);
  });

  it('rejects a share that is not a positive number, naming the option', () => {
    expect(() => new FairShare({ lookupsPerSecond: 0 })).toThrow(/FairShare: lookupsPerSecond must be a finite number ≥ 1; got 0/);
  });
});
