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
 */
export class ApiKeyAuthenticator implements Authenticator {
  private readonly keys: readonly KnownKey[];

  constructor(keys: readonly ApiKeyConfig[]) {
    if (keys.length === 0) throw new TypeError('ApiKeyAuthenticator: keys must hold at least one key');
    this.keys = keys.map((key) => ({
      digest: Buffer.from(key.sha256, 'hex'),
      caller: Object.freeze({ name: key.name, scope: Object.freeze({ instances: key.instances, groups: key.groups }) }),
    }));
  }

  async authenticate(credentials: Credentials): Promise<Caller> {
    const presented = credentials.bearer ?? credentials.apiKey;
    if (!presented) throw new UnauthenticatedError(MISSING_CREDENTIALS, 'missing');
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let match: Caller | undefined;
    for (const key of this.keys) {
      const equal = timingSafeEqual(digest, key.digest);
      if (equal && !match) match = key.caller;
    }
    if (!match) throw new UnauthenticatedError('Invalid API key', 'unknown key');
    return match;
  }
}
