import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { JwtConfig } from '../../config';
import type { Logger } from '../../common/logger';
import { MISSING_CREDENTIALS, UnauthenticatedError, type Authenticator, type Credentials } from './authenticator';
import type { Caller, Scope } from '../../common/caller';

// Reasons (jose error codes) that say the key set could not be had, not that the token is bad.
const KEY_SET_UNAVAILABLE = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC']);

/**
 * AUTH_MODE=jwt: `Authorization: Bearer <JWT>` signed by a key of the issuer's JWKS, with the
 * configured issuer and audience, unexpired. The caller is the token's subject; its scope comes from
 * two claims (names configurable), each an array of patterns or a space-separated string. A token
 * without them may ask about nothing: least privilege when an issuer forgets them.
 */
export class JwtAuthenticator implements Authenticator {
  private readonly keySet: ReturnType<typeof createLocalJWKSet> | ReturnType<typeof createRemoteJWKSet>;

  constructor(
    private readonly config: JwtConfig,
    private readonly logger: Logger,
  ) {
    if (config.jwks) this.keySet = createLocalJWKSet(config.jwks as JSONWebKeySet);
    else if (config.jwksUrl) this.keySet = createRemoteJWKSet(new URL(config.jwksUrl)); // cached, refetched on an unknown kid
    else throw new TypeError('JwtAuthenticator: jwks or jwksUrl is required');
  }

  async authenticate(credentials: Credentials): Promise<Caller> {
    if (!credentials.bearer) throw new UnauthenticatedError(MISSING_CREDENTIALS, 'missing');
    const payload = await this.verify(credentials.bearer);
    this.assertLifetime(payload);
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw new UnauthenticatedError('Invalid token: it names no subject (sub)', 'no sub');
    }
    // Checked again by long-lived connections (graphql-ws.ts), which authenticate only once.
    const expiresAtMs = typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
    return { name: payload.sub, scope: this.scopeOf(payload), ...(expiresAtMs !== undefined && { expiresAtMs }) };
  }

  private async verify(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.keySet, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        // Clocks of the issuer and of this host drift a little; seconds, as jose counts them.
        clockTolerance: this.config.clockSkewSeconds,
        // A token with no expiry would be a key that never lapses, and a WebSocket that never closes.
        requiredClaims: ['exp'],
      });
      return payload;
    } catch (error) {
      const reason = error instanceof errors.JOSEError ? error.code : 'key set unreachable';
      if (reason === 'ERR_JWT_EXPIRED') throw new UnauthenticatedError('Invalid token: it has expired', reason);
      if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'exp' && error.reason === 'missing') {
        throw new UnauthenticatedError('Invalid token: it has no expiry (exp)', 'no exp');
      }
      if (KEY_SET_UNAVAILABLE.has(reason) || !(error instanceof errors.JOSEError)) {
        // An operator problem (the JWKS endpoint is down), not the caller's; the token is not logged.
        this.logger.error({ reason, message: (error as Error).message }, 'JWT key set unavailable: tokens cannot be verified');
        throw new UnauthenticatedError('The token could not be verified right now; try again later', reason, true);
      }
      throw new UnauthenticatedError('Invalid token', reason);
    }
  }

  /**
   * A token is a bearer credential: whoever copies it is the caller until `exp`. jose checks `exp`
   * has not passed, not how far off it is, so `exp: 1e20` would never lapse; and checks a future
   * `iat` only with maxTokenAge, so `iat` set just short of a far `exp` would hide a long lifetime.
   */
  private assertLifetime(payload: JWTPayload): void {
    const nowS = Date.now() / 1000;
    const { clockSkewSeconds, maxLifetimeSeconds } = this.config;
    if (typeof payload.iat === 'number' && payload.iat > nowS + clockSkewSeconds) {
      throw new UnauthenticatedError('Invalid token: it was issued in the future (iat)', 'iat in the future');
    }
    // exp is a number here: jose requires it and checks its type.
    const lifetimeS = (payload.exp as number) - (typeof payload.iat === 'number' ? payload.iat : nowS);
    if (lifetimeS > maxLifetimeSeconds + clockSkewSeconds) {
      throw new UnauthenticatedError(`Invalid token: it lives longer than this service accepts (at most ${maxLifetimeSeconds} s from iat to exp)`, 'lifetime too long');
    }
  }

  private scopeOf(payload: JWTPayload): Scope {
    return { instances: patterns(payload[this.config.instancesClaim]), groups: patterns(payload[this.config.groupsClaim]) };
  }
}

function patterns(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(' ').filter(Boolean);
  if (Array.isArray(claim)) return claim.filter((value): value is string => typeof value === 'string' && value !== '');
  return [];
}
