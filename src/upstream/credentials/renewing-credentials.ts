import type { AccessKeyCredential } from '../../config/upstream';
import { assertNumberOption } from '../../presence/options';
import { credentialSourceFailed } from '../upstream-errors';
import type { CredentialFetcher, FetchedCredential } from './credential-sources';

export interface RenewingCredentialsOptions {
  /**
   * Renew once this little is left, or half the credential's life when that is less (a token issued
   * for seconds is renewed after half of them). 15 minutes is the SDK's `STALE_TIME` (providers/session.js).
   * @default 900000
   */
  renewBeforeMs?: number;
  /**
   * Never sign with a credential that has less than this left, or a quarter of its life when that is
   * less: a call signed now must still be valid when it reaches the upstream.
   * @default 30000
   */
  minValidityMs?: number;
  /** After a failed fetch, wait this long before the next; doubled per failure. @default 500 */
  retryMinMs?: number;
  /** The longest wait between two fetches of a failing source: so it recovers by itself within this. @default 10000 */
  retryMaxMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * The credentials of one source, shared by the OpenAPI calls and the status-notice login: one per
 * process. Temporary credentials (URI, OIDC, ECS role) are renewed ahead of their Expiration by a
 * timer, so neither lookups nor the AMQP login ever wait for the source while a valid key is held,
 * and `onChange` listeners (the AMQP consumer) hear of every new key. A source that stops answering
 * is asked again with capped backoff; lookups go on with the old key while it is valid, and fail with
 * UPSTREAM_AUTH_FAILED naming the source once it is not.
 */
export class RenewingCredentials {
  private readonly renewBeforeMs: number;
  private readonly minValidityMs: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly now: () => number;
  private current: (FetchedCredential & { fetchedAtMs: number }) | undefined;
  private fetching: Promise<FetchedCredential> | undefined;
  private failures = 0;
  private lastError: Error | undefined;
  private nextAttemptAtMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly listeners = new Set<(credential: AccessKeyCredential) => void>();

  constructor(
    readonly fetcher: CredentialFetcher,
    options: RenewingCredentialsOptions = {},
  ) {
    const owner = 'RenewingCredentials';
    this.renewBeforeMs = options.renewBeforeMs ?? 900_000;
    this.minValidityMs = options.minValidityMs ?? 30_000;
    this.retryMinMs = options.retryMinMs ?? 500;
    this.retryMaxMs = options.retryMaxMs ?? 10_000;
    this.now = options.now ?? Date.now;
    assertNumberOption(owner, 'renewBeforeMs', this.renewBeforeMs);
    assertNumberOption(owner, 'minValidityMs', this.minValidityMs);
    assertNumberOption(owner, 'retryMinMs', this.retryMinMs, { min: 1 });
    assertNumberOption(owner, 'retryMaxMs', this.retryMaxMs, { min: this.retryMinMs });
  }

  get source(): CredentialFetcher['source'] {
    return this.fetcher.source;
  }

  /** The key to sign with now. Rejects with UpstreamAuthFailedError naming the source when there is none valid. */
  async get(): Promise<AccessKeyCredential> {
    const held = this.current;
    const nowMs = this.now();
    if (held && held.expiresAtMs !== undefined && nowMs < this.usableUntilMs(held)) {
      if (nowMs >= this.renewAtMs(held)) this.renewInBackground();
      return strip(held);
    }
    // Nothing valid held (or a source without expiry, asked every time): this call waits for the source,
    // unless it failed just now: then fail fast until the backoff allows the next try.
    if (this.lastError && nowMs < this.nextAttemptAtMs && !this.fetching) throw this.lastError;
    return strip(await this.fetchOnce());
  }

  /** Called with every new key (not on the first fetch). Returns the unsubscribe. */
  onChange(listener: (credential: AccessKeyCredential) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.listeners.clear();
  }

  private renewInBackground(): void {
    if (this.fetching || this.now() < this.nextAttemptAtMs) return;
    this.fetchOnce().catch(() => undefined);
  }

  /** One fetch at a time, shared by every caller that needs it. */
  private fetchOnce(): Promise<FetchedCredential> {
    this.fetching ??= this.fetcher
      .fetch()
      .then(
        (fetched) => this.accept(fetched),
        (error: unknown) => {
          throw this.fail(error);
        },
      )
      .finally(() => (this.fetching = undefined));
    return this.fetching;
  }

  private accept(fetched: FetchedCredential): FetchedCredential {
    const nowMs = this.now();
    const previous = this.current;
    const next = { ...fetched, fetchedAtMs: nowMs };
    if (fetched.expiresAtMs !== undefined && nowMs >= this.usableUntilMs(next)) {
      throw this.fail(new Error('expired'), 'answered a credential that is expired or about to expire; check the clocks of this host and of the source');
    }
    this.current = next;
    this.failures = 0;
    this.lastError = undefined;
    this.schedule(next.expiresAtMs === undefined ? undefined : this.renewAtMs(next));
    if (previous && (previous.accessKeyId !== next.accessKeyId || previous.securityToken !== next.securityToken || previous.accessKeySecret !== next.accessKeySecret)) {
      for (const listener of this.listeners) {
        try {
          listener(strip(next));
        } catch {
          // A listener's fault is its own: renewal goes on.
        }
      }
    }
    return next;
  }

  private fail(error: unknown, why?: string): Error {
    this.failures++;
    const waitMs = Math.min(this.retryMaxMs, this.retryMinMs * 2 ** (this.failures - 1));
    this.nextAttemptAtMs = this.now() + waitMs;
    this.lastError = credentialSourceFailed(this.fetcher.source, this.fetcher.describe, why ?? reasonOf(error));
    // Keep renewing by the timer while a held key is valid, so the AMQP login is not left to expire.
    if (this.current?.expiresAtMs !== undefined) this.schedule(this.nextAttemptAtMs);
    return this.lastError;
  }

  private schedule(atMs: number | undefined): void {
    clearTimeout(this.timer);
    if (atMs === undefined || this.closed) return;
    this.timer = setTimeout(() => this.fetchOnce().catch(() => undefined), Math.max(0, atMs - this.now()));
    this.timer.unref();
  }

  private renewAtMs(held: FetchedCredential & { fetchedAtMs: number }): number {
    const lifeMs = held.expiresAtMs! - held.fetchedAtMs;
    return held.expiresAtMs! - Math.min(this.renewBeforeMs, lifeMs / 2);
  }

  private usableUntilMs(held: FetchedCredential & { fetchedAtMs: number }): number {
    const lifeMs = held.expiresAtMs! - held.fetchedAtMs;
    return held.expiresAtMs! - Math.min(this.minValidityMs, lifeMs / 4);
  }
}

function strip(held: FetchedCredential): AccessKeyCredential {
  return held.securityToken
    ? { accessKeyId: held.accessKeyId, accessKeySecret: held.accessKeySecret, securityToken: held.securityToken }
    : { accessKeyId: held.accessKeyId, accessKeySecret: held.accessKeySecret };
}

/**
 * A fixed reason from what failed, never the SDK's message: it quotes the source's answer
 * (uri.js: `message = <body>`, cli_profile.js: the config file's content), which may hold a secret.
 */
function reasonOf(error: unknown): string {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof e.code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(e.code)) return `no answer (${e.code})`;
  if (e.name === 'RequestTimeoutError') return 'no answer in time';
  const message = typeof e.message === 'string' ? e.message : '';
  const status = /httpStatus: (\d{3})/.exec(message);
  if (status) return `answered HTTP ${status[1]}`;
  if (message.startsWith('get sts token failed with OIDC')) return 'STS refused AssumeRoleWithOIDC or answered something else';
  if (/no valid Expiration|no AccessKeyId/.test(message)) return message;
  if (/json parse failed|unmarshal|error retrieving credentials/.test(message)) return 'answered something that is not credentials';
  return 'the source could not be read';
}
