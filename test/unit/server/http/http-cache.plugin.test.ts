import { browserMaxAgeSeconds } from '../../../../src/server/http/http-cache.plugin';

describe('browserMaxAgeSeconds: how long a browser may keep a GET answer', () => {
  const fresh = (oldestCheckedAtMs: number) => ({ oldestCheckedAtMs, stale: false });

  it('gives what is left of the cache TTL for the oldest status, in whole seconds rounded down', () => {
    expect(browserMaxAgeSeconds(10_000, fresh(1_000), 1_000)).toBe(10);
    expect(browserMaxAgeSeconds(10_000, fresh(1_000), 1_001)).toBe(9);
    expect(browserMaxAgeSeconds(10_000, fresh(1_000), 9_999)).toBe(1);
    expect(browserMaxAgeSeconds(10_000, fresh(1_000), 10_001)).toBe(0);
    expect(browserMaxAgeSeconds(10_000, fresh(1_000), 60_000)).toBe(0);
  });

  it('gives the whole TTL to an answer with no status, and to one stamped ahead of this clock', () => {
    expect(browserMaxAgeSeconds(3_000, fresh(Infinity), 5_000)).toBe(3);
    expect(browserMaxAgeSeconds(3_000, fresh(6_000), 5_000)).toBe(3);
  });

  it('gives nothing to an answer holding a stale status, or under a TTL of one second', () => {
    expect(browserMaxAgeSeconds(10_000, { oldestCheckedAtMs: 5_000, stale: true }, 5_000)).toBe(0);
    expect(browserMaxAgeSeconds(999, fresh(5_000), 5_000)).toBe(0);
    expect(browserMaxAgeSeconds(1_000, fresh(5_000), 5_001)).toBe(0);
  });
});
