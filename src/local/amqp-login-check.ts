import { createHmac, timingSafeEqual } from 'node:crypto';
import { ACCESS_FROM_USER } from '../upstream/status-notices/amqp-login';

/**
 * The cloud's check of a server-side SDK login (see upstream/status-notices/amqp-login.ts for the
 * format), done again locally so that a real RabbitMQ can stand in for the instance's AMQP endpoint.
 * The HMAC is written here from Alibaba's `Tools.macSignature` rather than imported from the signer,
 * so that a consumer passing this check is evidence, not an echo (as openapi-signature.ts does).
 *
 * RabbitMQ's `rabbitmq_auth_backend_http` passes only `username` and `password`, not the client
 * property `signKey` that names the signed ts, so the check searches the window for it: newest first
 * from now, since an honest client signed a few milliseconds ago and is found in a handful of HMACs;
 * only a wrong password pays for the whole window.
 */

/** How old a signed ts may be. The cloud's own limit is UNCONFIRMED (status-notices.md). */
export const LOGIN_MAX_AGE_MS = 60_000;
/** How far ahead of our clock a signer's clock may run. */
export const LOGIN_MAX_SKEW_AHEAD_MS = 5_000;
/** Candidates tried between two yields to the event loop (about 3 ms of HMACs on this machine). */
const CANDIDATES_PER_SLICE = 1_000;
/** An HMAC-SHA1 is 20 bytes: its base64 is 28 characters ending in one '='. */
const SIGNATURE_BYTES = 20;

export interface AmqpLoginKey {
  instanceId: string;
  accessKeyId: string;
  /** Never log it. */
  accessKeySecret: string;
}

export type AmqpLoginRefusal =
  | 'malformed-username'
  | 'other-instance'
  | 'unknown-access-key'
  /** The local instance issues no STS tokens, so it cannot check one (the STS form is UNCONFIRMED too). */
  | 'security-token-unsupported'
  | 'malformed-password'
  /** No ts in the window signs to this password: wrong secret, too old, or too far ahead. */
  | 'bad-signature';

export type AmqpLoginVerdict = { ok: true; signedAtMs: number } | { ok: false; reason: AmqpLoginRefusal };

export type AmqpUsernameVerdict = { ok: true } | { ok: false; reason: Exclude<AmqpLoginRefusal, 'malformed-password' | 'bad-signature'> };

/**
 * Whether `username` is the SDK's username for this instance and AccessKey (`UserUtils.getUserName`).
 * Enough on its own for RabbitMQ's vhost and resource questions, which it asks only about a user it
 * has already logged in.
 */
export function checkAmqpUsername(username: string, key: Pick<AmqpLoginKey, 'instanceId' | 'accessKeyId'>): AmqpUsernameVerdict {
  const decoded = Buffer.from(username, 'base64');
  // Buffer.from ignores what is not base64: only a canonical encoding round-trips.
  if (username === '' || decoded.toString('base64') !== username) return { ok: false, reason: 'malformed-username' };
  const fields = decoded.toString('utf8').split(':');
  if (fields.length < 3 || fields.length > 4 || fields[0] !== ACCESS_FROM_USER || fields.some((field) => field === '')) {
    return { ok: false, reason: 'malformed-username' };
  }
  if (fields[1] !== key.instanceId) return { ok: false, reason: 'other-instance' };
  if (fields[2] !== key.accessKeyId) return { ok: false, reason: 'unknown-access-key' };
  if (fields.length === 4) return { ok: false, reason: 'security-token-unsupported' };
  return { ok: true };
}

/**
 * Checks a login as the cloud does: the username names this instance and AccessKey, and the password
 * is base64(HMAC-SHA1(secret, ts)) for some ts in [nowMs − 60 s, nowMs + 5 s]. Yields to the event
 * loop between slices of the search, so a wrong password (about 65,000 HMACs, a few hundred ms of
 * CPU) never blocks the process for long; bound how many run at once with `LoginCheckGate`.
 */
export async function checkAmqpLogin(
  login: { username: string; password: string },
  key: AmqpLoginKey,
  nowMs: number,
): Promise<AmqpLoginVerdict> {
  const user = checkAmqpUsername(login.username, key);
  if (!user.ok) return user;
  const expected = Buffer.from(login.password, 'base64');
  if (expected.length !== SIGNATURE_BYTES || expected.toString('base64') !== login.password) return { ok: false, reason: 'malformed-password' };
  const secret = Buffer.from(key.accessKeySecret, 'utf8');
  const oldest = nowMs - LOGIN_MAX_AGE_MS;
  const newest = nowMs + LOGIN_MAX_SKEW_AHEAD_MS;
  // Newest-past first (now, now − 1, …, oldest), then the skew ahead (now + 1, …, newest).
  const candidateAt = (index: number): number => (index <= nowMs - oldest ? nowMs - index : nowMs + (index - (nowMs - oldest)));
  const count = newest - oldest + 1;
  for (let start = 0; start < count; start += CANDIDATES_PER_SLICE) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    for (let index = start; index < Math.min(count, start + CANDIDATES_PER_SLICE); index++) {
      const ts = candidateAt(index);
      const digest = createHmac('sha1', secret).update(String(ts), 'utf8').digest();
      if (timingSafeEqual(digest, expected)) return { ok: true, signedAtMs: ts };
    }
  }
  return { ok: false, reason: 'bad-signature' };
}

export interface LoginCheckGateOptions {
  /** Checks searching at once; each one is CPU-bound. @default 2 */
  maxConcurrentChecks?: number;
  /** Checks waiting for a turn; more are refused at once as 'busy'. @default 32 */
  maxQueuedChecks?: number;
}

/**
 * Bounds the CPU a burst of wrong passwords can take: at most `maxConcurrentChecks` searches at once,
 * `maxQueuedChecks` waiting, the rest refused straight away. One per endpoint, shared by its requests.
 */
export class LoginCheckGate {
  private readonly maxConcurrentChecks: number;
  private readonly maxQueuedChecks: number;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(options: LoginCheckGateOptions = {}) {
    this.maxConcurrentChecks = options.maxConcurrentChecks ?? 2;
    this.maxQueuedChecks = options.maxQueuedChecks ?? 32;
    if (!Number.isInteger(this.maxConcurrentChecks) || this.maxConcurrentChecks < 1) {
      throw new RangeError(`LoginCheckGate: maxConcurrentChecks must be a whole number ≥ 1; got ${String(this.maxConcurrentChecks)}`);
    }
    if (!Number.isInteger(this.maxQueuedChecks) || this.maxQueuedChecks < 0) {
      throw new RangeError(`LoginCheckGate: maxQueuedChecks must be a whole number ≥ 0; got ${String(this.maxQueuedChecks)}`);
    }
  }

  /** Runs `check` when a slot frees up, or answers 'busy' without running it when the queue is full. */
  async run<T>(check: () => Promise<T>): Promise<T | 'busy'> {
    if (this.running >= this.maxConcurrentChecks) {
      if (this.waiting.length >= this.maxQueuedChecks) return 'busy';
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await check();
    } finally {
      // The slot passes straight to the next waiter, so `running` never dips and lets a newcomer jump the queue.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
