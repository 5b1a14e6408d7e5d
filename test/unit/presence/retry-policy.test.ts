import {
  UpstreamAuthFailedError,
  UpstreamThrottledError,
  UpstreamUnavailableError,
} from '../../../src/presence/errors';
import { RetryPolicy, type RetryPolicyOptions } from '../../../src/presence/retry-policy';

/** A policy on a hand-driven clock: each sleep is recorded and moves the clock on. */
function policyWith(options: Partial<RetryPolicyOptions> = {}) {
  let clock = 0;
  const sleeps: number[] = [];
  const policy = new RetryPolicy({
    maxAttempts: 4,
    baseDelayMs: 100,
    totalMs: 10_000,
    random: () => 0.5,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    ...options,
  });
  return { policy, sleeps };
}

/** An attempt function failing with `errors` in turn, then answering 'ok'. */
function failing(...errors: Error[]) {
  const attempts: number[] = [];
  const run = async ({ attempt }: { attempt: number }) => {
    attempts.push(attempt);
    if (attempt < errors.length) throw errors[attempt];
    return 'ok';
  };
  return { run, attempts };
}

const unavailable = () => new UpstreamUnavailableError('InternalError', { code: 'InternalError' });

describe('RetryPolicy', () => {
  describe('Backs off exponentially with full jitter', () => {
    it('waits a random share of base · 2^n before retry n + 1', async () => {
      const { policy, sleeps } = policyWith();
      const { run, attempts } = failing(unavailable(), unavailable(), unavailable());
      await expect(policy.execute(run)).resolves.toBe('ok');
      expect(attempts).toEqual([0, 1, 2, 3]);
      expect(sleeps).toEqual([50, 100, 200]);
    });

    it('draws the whole delay at random, from zero up to the ceiling', async () => {
      const draws = [0, 0.999];
      const { policy, sleeps } = policyWith({ random: () => draws.shift()! });
      await policy.execute(failing(unavailable(), unavailable()).run);
      expect(sleeps).toEqual([0, 199.8]);
    });

    it('caps the ceiling at maxDelayMs', async () => {
      const { policy, sleeps } = policyWith({ maxAttempts: 6, maxDelayMs: 300, random: () => 1 });
      await policy.execute(failing(unavailable(), unavailable(), unavailable(), unavailable(), unavailable()).run);
      expect(sleeps).toEqual([100, 200, 300, 300, 300]);
    });

    it("waits at least the retryAfterMs of our own budget's refusal, which says when it could grant again", async () => {
      const { policy, sleeps } = policyWith();
      await policy.execute(failing(new UpstreamThrottledError('no room in time', 700)).run);
      expect(sleeps).toEqual([700]);
    });

    it("backs off from the upstream's SystemOverFlow like any fault: the slowed budget paces the retry, not a fixed second", async () => {
      const { policy, sleeps } = policyWith();
      await policy.execute(failing(new UpstreamThrottledError('SystemOverFlow', 1000, { code: 'SystemOverFlow' })).run);
      expect(sleeps).toEqual([50]);
    });
  });

  describe('Knows when to stop', () => {
    it('does not retry an error that is not retryable', async () => {
      const { policy, sleeps } = policyWith();
      const auth = new UpstreamAuthFailedError('bad key', { code: 'InvalidAccessKeyId.NotFound' });
      const { run, attempts } = failing(auth);
      await expect(policy.execute(run)).rejects.toBe(auth);
      expect(attempts).toEqual([0]);
      expect(sleeps).toEqual([]);
    });

    it('does not retry plain errors, which carry no retryable flag', async () => {
      const { policy } = policyWith();
      const { run, attempts } = failing(new Error('bug'));
      await expect(policy.execute(run)).rejects.toThrow('bug');
      expect(attempts).toEqual([0]);
    });

    it('keeps retrying while the next retry can start within totalMs, however many attempts that takes', async () => {
      const { policy, sleeps } = policyWith({ maxAttempts: 100, maxDelayMs: 200, totalMs: 1000 });
      const attempts: number[] = [];
      const last = await policy
        .execute(async ({ attempt }) => {
          attempts.push(attempt);
          throw unavailable();
        })
        .catch((error: unknown) => error);
      expect(last).toBeInstanceOf(UpstreamUnavailableError);
      // 50, then 100 each (half the 200 ms ceiling): the retry at 950 is the last one that starts by 1000.
      expect(sleeps).toEqual([50, ...Array(9).fill(100)]);
      expect(attempts).toHaveLength(11);
    });

    it('rethrows the last error once maxAttempts attempts have failed', async () => {
      const { policy } = policyWith({ maxAttempts: 3 });
      const last = unavailable();
      const { run, attempts } = failing(unavailable(), unavailable(), last, unavailable());
      await expect(policy.execute(run)).rejects.toBe(last);
      expect(attempts).toEqual([0, 1, 2]);
    });

    it('starts no retry that would begin after totalMs since the first attempt', async () => {
      const { policy, sleeps } = policyWith({ totalMs: 120 });
      const { run, attempts } = failing(unavailable(), unavailable(), unavailable());
      await expect(policy.execute(run)).rejects.toBeInstanceOf(UpstreamUnavailableError);
      expect(sleeps).toEqual([50]); // the next wait (100) would end at 150 > 120
      expect(attempts).toEqual([0, 1]);
    });

    it('tells each attempt its index and the deadline of the whole run', async () => {
      const { policy } = policyWith({ totalMs: 1000 });
      const seen: Array<[number, number]> = [];
      await policy.execute(async ({ attempt, deadlineMs }) => {
        seen.push([attempt, deadlineMs]);
        if (attempt === 0) throw unavailable();
      });
      expect(seen).toEqual([
        [0, 1000],
        [1, 1000],
      ]);
    });
  });

  it('rejects bad options with a message naming the option and the value', () => {
    expect(() => new RetryPolicy({ maxAttempts: 0, baseDelayMs: 1, totalMs: 1 })).toThrow('RetryPolicy: maxAttempts must be a whole number ≥ 1; got 0');
    expect(() => new RetryPolicy({ maxAttempts: 1, baseDelayMs: NaN, totalMs: 1 })).toThrow('RetryPolicy: baseDelayMs must be a finite number ≥ 0; got NaN');
  });
});
