import { randomBytes } from 'node:crypto';
import type { AmqpKeyRefusal, AmqpLoginKeys } from '../../src/local/amqp-login-check';

/** One temporary credential as STS and the credential sources hand it out (their JSON field names). */
export interface IssuedCredential {
  AccessKeyId: string;
  AccessKeySecret: string;
  SecurityToken: string;
  /** ISO 8601 UTC in whole seconds, as STS writes it (the SDK's parseUTC takes `…Z` without milliseconds). */
  Expiration: string;
}

/**
 * The issuer behind every credential stand-in (credentials URI, STS, ECS metadata): it mints a new
 * key every `rotateEveryMs`, each valid `lifeMs`, and is the only judge of which keys are current:
 * the OpenAPI and AMQP stand-ins accept a key only while it is issued and unexpired, with its token.
 */
export class StsAuthority {
  private readonly keys = new Map<string, { secret: string; token: string | undefined; expiresAtMs: number; issuedAtMs: number }>();
  private newest: IssuedCredential | undefined;
  private newestAtMs = 0;
  issued = 0;

  constructor(private readonly options: { rotateEveryMs: number; lifeMs: number }) {}

  /** The newest key, minting one when it is `rotateEveryMs` old. */
  current(): IssuedCredential {
    const nowMs = Date.now();
    if (!this.newest || nowMs - this.newestAtMs >= this.options.rotateEveryMs) {
      const expiresAtMs = Math.floor((nowMs + this.options.lifeMs) / 1000) * 1000;
      const id = `STS.${randomBytes(8).toString('hex')}`;
      const secret = randomBytes(18).toString('base64url');
      const token = `tok-${randomBytes(24).toString('base64url')}`;
      this.keys.set(id, { secret, token, expiresAtMs, issuedAtMs: nowMs });
      this.newest = { AccessKeyId: id, AccessKeySecret: secret, SecurityToken: token, Expiration: new Date(expiresAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z') };
      this.newestAtMs = nowMs;
      this.issued++;
    }
    return this.newest;
  }

  /**
   * A long-lived AccessKey pair, as a RAM user's (a CLI profile in `AK` mode): no token, no expiry.
   * Accepted only when sent without a security token.
   */
  accessKey(): { AccessKeyId: string; AccessKeySecret: string } {
    const id = `LTAI${randomBytes(8).toString('hex')}`;
    const secret = randomBytes(18).toString('base64url');
    this.keys.set(id, { secret, token: undefined, expiresAtMs: Number.POSITIVE_INFINITY, issuedAtMs: Date.now() });
    this.issued++;
    return { AccessKeyId: id, AccessKeySecret: secret };
  }

  /** The key's secret and token while it is current; why not otherwise. */
  check(accessKeyId: string, securityToken: string | undefined, nowMs = Date.now()): { ok: true; secret: string } | { ok: false; code: string } {
    const key = this.keys.get(accessKeyId);
    if (!key) return { ok: false, code: 'InvalidAccessKeyId.NotFound' };
    if (securityToken !== key.token) return { ok: false, code: 'InvalidSecurityToken.MismatchWithAccessKey' };
    if (nowMs >= key.expiresAtMs) return { ok: false, code: 'InvalidSecurityToken.Expired' };
    return { ok: true, secret: key.secret };
  }
}

const AMQP_REFUSALS: Record<string, AmqpKeyRefusal> = {
  'InvalidAccessKeyId.NotFound': 'unknown-access-key',
  'InvalidSecurityToken.MismatchWithAccessKey': 'bad-security-token',
  'InvalidSecurityToken.Expired': 'expired-security-token',
};

/** The authority as the local AMQP login check's key lookup: only its keys, current, each with its own token. */
export function amqpLoginKeysOf(authority: StsAuthority, instanceId: string): AmqpLoginKeys {
  return {
    instanceId,
    secretOf(accessKeyId, securityToken, nowMs) {
      const verdict = authority.check(accessKeyId, securityToken, nowMs);
      return verdict.ok ? { ok: true, accessKeySecret: verdict.secret } : { ok: false, reason: AMQP_REFUSALS[verdict.code] };
    },
  };
}
