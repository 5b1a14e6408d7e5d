import { SlidingLogLimiter } from '../../../src/local/sliding-log-limiter';

describe('SlidingLogLimiter', () => {
  it('admits up to the limit within any rolling window and refuses the rest', () => {
    const limiter = new SlidingLogLimiter(3, 1000);
    expect([0, 10, 20, 30].map((t) => limiter.tryAdmit(t))).toEqual([true, true, true, false]);
  });

  it('admits again once the oldest admitted call has left the window, not at a fixed window edge', () => {
    const limiter = new SlidingLogLimiter(2, 1000);
    expect([900, 950].map((t) => limiter.tryAdmit(t))).toEqual([true, true]);
    // A fixed window would reset at 1000 and admit a burst of two more here.
    expect(limiter.tryAdmit(1001)).toBe(false);
    expect(limiter.tryAdmit(1900)).toBe(true);
  });

  it('does not count refused calls', () => {
    const limiter = new SlidingLogLimiter(1, 1000);
    expect([0, 500, 999, 1000].map((t) => limiter.tryAdmit(t))).toEqual([true, false, false, true]);
  });

  it('rejects a limit that is not a whole number of at least 1, naming it', () => {
    expect(() => new SlidingLogLimiter(0)).toThrow(/limit/);
  });
});
