import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyConfig } from '../../config';
import { MISSING_CREDENTIALS, UnauthenticatedError, type Authenticator, type Credentials } from './authenticator';
import type { Caller } from '../../common/caller';

interface KnownKey {
  digest: Buffer;
  caller: Caller;
}

/**
 * AUTH_MODE=apikey: the key arrives as `Authorization: Bearer <key>` (or `x-api-key`) and is known
 * here only by its SHA-256, so the configuration holds nothing worth stealing.
 *
 * Hashing first also makes the comparison constant-time: both sides are 32 bytes, as
 * `timingSafeEqual` needs, and the time taken depends on neither the presented key's length nor how
 * much of it matches. Every configured digest is compared, with no early exit, so the time does not
 * tell which key (if any) matched either.
 *
 * A key that matched is remembered (presented key -> caller), so a caller's later requests skip the
 * SHA-256 and the comparisons: about 4 % of an all-cached 10-device request's CPU (bench/perf-pass.md).
 * Only matched keys enter, so the map holds at most one entry per configured key and a stream of
 * random keys cannot grow it; an unknown key always takes the full digest-and-compare path. What a
 * hit's timing can tell (that the key is valid, and which caller it is) the answer tells anyway; the
 * map compares a presented string with a stored one only when their hashes (seeded per process) agree.
 */
export class ApiKeyAuthenticator implements Authenticator {
  private readonly keys: readonly KnownKey[];
  private readonly matched = new Map<string, Caller>();

  constructor(keys: readonly ApiKeyConfig[]) {
    if (keys.length === 0) throw new TypeError('ApiKeyAuthenticator: keys must hold at least one key');
    this.keys = keys.map((key) => ({
      digest: Buffer.from(key.sha256, 'hex'),
      caller: Object.freeze({ name: key.name, scope: Object.freeze({ instances: key.instances, groups: key.groups }) }),
    }));
  }

  /** How many presented keys are remembered: never more than the configured keys (tests read it). */
  get rememberedKeys(): number {
    return this.matched.size;
  }

  async authenticate(credentials: Credentials): Promise<Caller> {
    const presented = credentials.bearer ?? credentials.apiKey;
    if (!presented) throw new UnauthenticatedError(MISSING_CREDENTIALS, 'missing');
    const known = this.matched.get(presented);
    if (known) return known;
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let match: Caller | undefined;
    for (const key of this.keys) {
      const equal = timingSafeEqual(digest, key.digest);
      if (equal && !match) match = key.caller;
    }
    if (!match) throw new UnauthenticatedError('Invalid API key', 'unknown key');
    // Bounded by the configured keys (a SHA-256 match is one key's preimage); the check keeps it so.
    if (this.matched.size < this.keys.length) this.matched.set(presented, match);
    return match;
  }
}
