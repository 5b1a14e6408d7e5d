import { systemClock, type Clock } from './clock';
import { UpstreamUnavailableError } from './errors';
import { assertNumberOption } from './options';

export interface CircuitBreakerOptions {
  /** Consecutive failed upstream calls that open the circuit, @default 5. */
  failureThreshold?: number;
  /** How long an open circuit refuses calls before it lets one probe through, @default 5000. */
  coolDownMs?: number;
  now?: Clock;
}

/**
 * Refused by an open circuit: no upstream call was made. Not retryable, since retrying within the
 * cool-down is refused again; callers fail fast (or serve a stale status where allowed).
 */
export class CircuitOpenError extends UpstreamUnavailableError {
  override readonly retryable = false;

  constructor() {
    super('The upstream is failing repeatedly (circuit open); calls are refused for a cool-down');
  }
}

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * One per process, shared by both actions (they reach the same endpoint): after `failureThreshold`
 * consecutive failed calls it opens and refuses calls for `coolDownMs`, then lets exactly one probe
 * through (half-open). The probe's success closes it; its failure opens it for another cool-down.
 *
 * Only `UpstreamUnavailableError` counts as a failure (InternalError, network faults, timeouts): an
 * upstream that throttles, rejects a parameter or refuses credentials is up and answering, and
 * throttling is already paced by the budget and the retry backoff.
 */
export class CircuitBreaker {
  private readonly failureThreshold: number;
  private readonly coolDownMs: number;
  private readonly now: Clock;
  private consecutiveFailures = 0;
  private openedAtMs: number | undefined;
  private probing = false;

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.coolDownMs = options.coolDownMs ?? 5000;
    assertNumberOption('CircuitBreaker', 'failureThreshold', this.failureThreshold, { min: 1, integer: true });
    assertNumberOption('CircuitBreaker', 'coolDownMs', this.coolDownMs);
    this.now = options.now ?? systemClock;
  }

  get state(): CircuitState {
    if (this.openedAtMs === undefined) return 'closed';
    return this.now() - this.openedAtMs < this.coolDownMs ? 'open' : 'half-open';
  }

  /**
   * Throws `CircuitOpenError` when a call now would be refused. Callers check before waiting for
   * budget, so a refused call costs neither budget nor time.
   */
  check(): void {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.probing)) throw new CircuitOpenError();
  }

  /** Makes one upstream call through the breaker, or throws `CircuitOpenError` without calling. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    this.check();
    const probe = this.openedAtMs !== undefined;
    if (probe) this.probing = true;
    try {
      const result = await call();
      this.close();
      return result;
    } catch (error) {
      if (error instanceof UpstreamUnavailableError) this.recordFailure(probe);
      else this.close();
      throw error;
    } finally {
      if (probe) this.probing = false;
    }
  }

  private close(): void {
    this.consecutiveFailures = 0;
    this.openedAtMs = undefined;
  }

  private recordFailure(probe: boolean): void {
    this.consecutiveFailures++;
    // Calls that were already in flight when the circuit opened do not extend the cool-down.
    if (probe || (this.openedAtMs === undefined && this.consecutiveFailures >= this.failureThreshold)) {
      this.openedAtMs = this.now();
    }
  }
}
