import type { NoticeCoverage } from '../../../../src/presence/status-notices/notice-coverage';
import { NoticeTrust } from '../../../../src/presence/status-notices/notice-trust';

/** The shared coverage as Redis keeps it (redis-notice-coverage.ts), in memory. */
class MemoryCoverage implements NoticeCoverage {
  private sinceMs: number | undefined;
  private expiresAtMs = -Infinity;
  constructor(private readonly clock: () => number) {}
  async consuming(nowMs: number, maxGapMs: number): Promise<number> {
    if (this.clock() >= this.expiresAtMs) this.sinceMs = nowMs;
    this.expiresAtMs = this.clock() + maxGapMs;
    return this.sinceMs!;
  }
  async since(): Promise<number | undefined> {
    return this.clock() < this.expiresAtMs ? this.sinceMs : undefined;
  }
}

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

  describe('with replicas sharing their consumers\' coverage', () => {
    it('lets a replica that starts while another consumes trust the table from when that coverage began', async () => {
      const coverage = new MemoryCoverage(() => now);
      const first = new NoticeTrust({ maxGapMs: 10_000, now: () => now, coverage });
      first.connected(1_000);
      await first.refreshCoverage();
      // The first replica keeps saying it consumes, every third of maxGapMs, as the service does.
      for (now = 1_000; now <= 50_000; now += 3_000) await first.refreshCoverage();
      const second = new NoticeTrust({ maxGapMs: 10_000, now: () => now, coverage });
      await second.refreshCoverage();
      expect(second.trusts(2_000)).toBe(true);
      expect(second.consuming).toBe(true);
      second.connected(now);
      expect(second.trustedSinceMs()).toBe(1_000);
    });

    it('starts the coverage anew once nobody consumed for maxGapMs, and trusts only what came since', async () => {
      const coverage = new MemoryCoverage(() => now);
      const first = new NoticeTrust({ maxGapMs: 10_000, now: () => now, coverage });
      first.connected(1_000);
      await first.refreshCoverage();
      first.disconnected(2_000);
      now = 20_000;
      const second = new NoticeTrust({ maxGapMs: 10_000, now: () => now, coverage });
      await second.refreshCoverage();
      expect(second.trustedSinceMs()).toBeUndefined();
      second.connected(20_000);
      await second.refreshCoverage();
      expect(second.trusts(1_500)).toBe(false);
      expect(second.trusts(20_000)).toBe(true);
    });

    it('keeps its own trust when the shared store cannot be reached', async () => {
      const failing: NoticeCoverage = { consuming: () => Promise.reject(new Error('down')), since: () => Promise.reject(new Error('down')) };
      const t = new NoticeTrust({ maxGapMs: 10_000, now: () => now, coverage: failing });
      t.connected(3_000);
      await t.refreshCoverage();
      expect(t.trustedSinceMs()).toBe(3_000);
    });
  });
});
