import { CircuitBreaker, CircuitOpenError } from '../../../src/presence/circuit-breaker';
import { PresenceErrorCode, UpstreamRejectedError, UpstreamThrottledError, UpstreamUnavailableError } from '../../../src/presence/errors';

beforeEach(() => jest.useFakeTimers({ now: 0 }));
afterEach(() => jest.useRealTimers());

const down = () => Promise.reject(new UpstreamUnavailableError('InternalError', { code: 'InternalError' }));
const up = () => Promise.resolve('ok');

async function failTimes(breaker: CircuitBreaker, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await breaker.run(down).catch(() => undefined);
}

describe('CircuitBreaker', () => {
  it('stays closed through fewer consecutive failures than the threshold', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3 });
    await failTimes(breaker, 2);
    await expect(breaker.run(up)).resolves.toBe('ok');
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
  });

  it('opens after the threshold of consecutive failures and then fails fast without calling', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3, coolDownMs: 1000 });
    await failTimes(breaker, 3);
    expect(breaker.state).toBe('open');
    const call = jest.fn(up);
    const error = await breaker.run(call).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ code: PresenceErrorCode.UpstreamUnavailable, retryable: false });
    expect(call).not.toHaveBeenCalled();
    expect(() => breaker.check()).toThrow(CircuitOpenError);
  });

  it('lets exactly one probe through after the cool-down, and closes when it succeeds', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, coolDownMs: 1000 });
    await failTimes(breaker, 1);
    jest.advanceTimersByTime(1000);
    expect(breaker.state).toBe('half-open');
    let answer!: (value: string) => void;
    const probe = breaker.run(() => new Promise<string>((resolve) => (answer = resolve)));
    await expect(breaker.run(up)).rejects.toBeInstanceOf(CircuitOpenError);
    answer('ok');
    await expect(probe).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    await expect(breaker.run(up)).resolves.toBe('ok');
  });

  it('opens for another cool-down when the probe fails', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, coolDownMs: 1000 });
    await failTimes(breaker, 1);
    jest.advanceTimersByTime(1000);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    jest.advanceTimersByTime(999);
    expect(breaker.state).toBe('open');
    jest.advanceTimersByTime(1);
    expect(breaker.state).toBe('half-open');
  });

  it('counts only unavailability: throttling and rejections show an upstream that answers', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2 });
    await failTimes(breaker, 1);
    await breaker.run(() => Promise.reject(new UpstreamThrottledError('SystemOverFlow', 0))).catch(() => undefined);
    await failTimes(breaker, 1);
    await breaker.run(() => Promise.reject(new UpstreamRejectedError('ParameterCheckFailed'))).catch(() => undefined);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('closed');
  });

  it('rejects bad options with a message naming the option and the value', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0 })).toThrow('CircuitBreaker: failureThreshold must be a whole number ≥ 1; got 0');
    expect(() => new CircuitBreaker({ coolDownMs: -5 })).toThrow('CircuitBreaker: coolDownMs must be a finite number ≥ 0; got -5');
  });
});
