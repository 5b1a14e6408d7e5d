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

/** Why an AccessKey (with or without a security token) may not log in now. */
export type AmqpKeyRefusal =
  | 'unknown-access-key'
  /** The key is long-lived and issues no STS tokens, so a token with it cannot be checked. */
  | 'security-token-unsupported'
  /** A temporary key whose token is missing or is not the one issued with it. */
  | 'bad-security-token'
  /** A temporary key past its Expiration: the cloud refuses it, and so do we. */
  | 'expired-security-token';

/**
 * The AccessKeys that may log in at `nowMs`, asked on every question RabbitMQ asks: the local
 * instance's one fixed key (`fixedLoginKey`), or the temporary keys a credential issuer (an STS
 * stand-in) has handed out and not yet seen expire, each only with its own security token.
 */
export interface AmqpLoginKeys {
  instanceId: string;
  /** The secret of `accessKeyId` when it may log in with `securityToken` (undefined: none sent); never log it. */
  secretOf(accessKeyId: string, securityToken: string | undefined, nowMs: number): { ok: true; accessKeySecret: string } | { ok: false; reason: AmqpKeyRefusal };
}

/** One long-lived AccessKey, without a token: the local instance's. */
export function fixedLoginKey(key: AmqpLoginKey): AmqpLoginKeys {
  return {
    instanceId: key.instanceId,
    secretOf(accessKeyId, securityToken) {
      if (accessKeyId !== key.accessKeyId) return { ok: false, reason: 'unknown-access-key' };
      if (securityToken !== undefined) return { ok: false, reason: 'security-token-unsupported' };
      return { ok: true, accessKeySecret: key.accessKeySecret };
    },
  };
}

export type AmqpLoginRefusal =
  | 'malformed-username'
  | 'other-instance'
  | AmqpKeyRefusal
  | 'malformed-password'
  /** No ts in the window signs to this password: wrong secret, too old, or too far ahead. */
  | 'bad-signature';

export type AmqpLoginVerdict = { ok: true; signedAtMs: number; accessKeyId: string } | { ok: false; reason: AmqpLoginRefusal };

export type AmqpUsernameVerdict = { ok: true } | { ok: false; reason: Exclude<AmqpLoginRefusal, 'malformed-password' | 'bad-signature'> };

type Identified = { ok: true; accessKeyId: string; accessKeySecret: string } | Extract<AmqpUsernameVerdict, { ok: false }>;

/**
 * Whether `username` is the SDK's username for this instance and an AccessKey that may log in now
 * (`UserUtils.getUserName`: base64 of `0:instanceId:accessKeyId`, or with `:securityToken` for STS).
 * Enough on its own for RabbitMQ's vhost and resource questions, which it asks only about a user it
 * has already logged in; an STS key that expired since is refused there too.
 */
export function checkAmqpUsername(username: string, keys: AmqpLoginKeys | AmqpLoginKey, nowMs = Date.now()): AmqpUsernameVerdict {
  const identified = identify(username, keys, nowMs);
  return identified.ok ? { ok: true } : identified;
}

function identify(username: string, keys: AmqpLoginKeys | AmqpLoginKey, nowMs: number): Identified {
  const known = 'secretOf' in keys ? keys : fixedLoginKey(keys);
  const decoded = Buffer.from(username, 'base64');
  // Buffer.from ignores what is not base64: only a canonical encoding round-trips.
  if (username === '' || decoded.toString('base64') !== username) return { ok: false, reason: 'malformed-username' };
  const fields = decoded.toString('utf8').split(':');
  if (fields.length < 3 || fields.length > 4 || fields[0] !== ACCESS_FROM_USER || fields.some((field) => field === '')) {
    return { ok: false, reason: 'malformed-username' };
  }
  if (fields[1] !== known.instanceId) return { ok: false, reason: 'other-instance' };
  const secret = known.secretOf(fields[2], fields[3], nowMs);
  return secret.ok ? { ok: true, accessKeyId: fields[2], accessKeySecret: secret.accessKeySecret } : secret;
}

/**
 * Checks a login as the cloud does: the username names this instance and an AccessKey that may log in
 * now (with its current token, for STS), and the password is base64(HMAC-SHA1(secret, ts)) for some
 * ts in [nowMs − 60 s, nowMs + 5 s]. Yields to the event
 * loop between slices of the search, so a wrong password (about 65,000 HMACs, a few hundred ms of
 * CPU) never blocks the process for long; bound how many run at once with `LoginCheckGate`.
 */
export async function checkAmqpLogin(
  login: { username: string; password: string },
  keys: AmqpLoginKeys | AmqpLoginKey,
  nowMs: number,
): Promise<AmqpLoginVerdict> {
  const user = identify(login.username, keys, nowMs);
  if (!user.ok) return user;
  const expected = Buffer.from(login.password, 'base64');
  if (expected.length !== SIGNATURE_BYTES || expected.toString('base64') !== login.password) return { ok: false, reason: 'malformed-password' };
  const secret = Buffer.from(user.accessKeySecret, 'utf8');
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
      if (timingSafeEqual(digest, expected)) return { ok: true, signedAtMs: ts, accessKeyId: user.accessKeyId };
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
