import { NoticeTrust } from '../../../../src/presence/status-notices/notice-trust';

describe('NoticeTrust', () => {
  let now = 1_000;
  const trust = (maxGapMs = 10_000) => new NoticeTrust({ maxGapMs, now: () => now });
  beforeEach(() => (now = 1_000));

  it('trusts nothing before the consumer first consumes', () => {
    const t = trust();
    expect(t.trustedSinceMs()).toBeUndefined();
    expect(t.trusts(5_000)).toBe(false);
  });

  it('trusts evidence from the first connection on, never older evidence', () => {
    const t = trust();
    t.connected(2_000);
    expect(t.trusts(1_999)).toBe(false);
    expect(t.trusts(2_000)).toBe(true);
    expect(t.consuming).toBe(true);
  });

  it('keeps its trust through a gap no longer than maxGapMs', () => {
    const t = trust(10_000);
    t.connected(2_000);
    t.disconnected(5_000);
    now = 14_000;
    expect(t.trustedSinceMs()).toBe(2_000);
    t.connected(15_000);
    expect(t.trustedSinceMs()).toBe(2_000);
  });

  it('trusts nothing while the consumer has been away longer than maxGapMs, and afterwards only new evidence', () => {
    const t = trust(10_000);
    t.connected(2_000);
    t.disconnected(5_000);
    now = 15_001;
    expect(t.trustedSinceMs()).toBeUndefined();
    expect(t.consuming).toBe(false);
    t.connected(16_000);
    now = 16_500;
    expect(t.trusts(15_000)).toBe(false);
    expect(t.trusts(16_000)).toBe(true);
  });

  it('refuses a negative maxGapMs, naming the option', () => {
    expect(() => new NoticeTrust({ maxGapMs: -1 })).toThrow(/maxGapMs/);
  });
});
