import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import type { ApiKeyConfig } from '../../src/config';

/** A fresh random API key and its configuration entry (which holds only the key's SHA-256). */
export function makeApiKey(name: string, scope: { instances: string[]; groups: string[] }): { key: string; entry: ApiKeyConfig } {
  const key = `pg_${randomBytes(24).toString('base64url')}`;
  return { key, entry: { name, sha256: createHash('sha256').update(key).digest('hex'), ...scope } };
}

export interface SignOptions {
  audience?: string;
  expiresAt?: number | null;
  issuedAt?: number | null;
  issuer?: string;
}

export interface TestIssuer {
  issuer: string;
  audience: string;
  /** A JWKS file holding the issuer's public key, as JWT_JWKS_FILE reads it. */
  jwksFile: string;
  /** A token signed by the issuer; `claims` and `options` override the defaults (valid for 5 minutes). */
  /** `expiresAt: null` leaves `exp` out, `issuedAt: null` leaves `iat` out (both in seconds). */
  sign(claims?: JWTPayload, options?: SignOptions): Promise<string>;
  /** The same token, signed by a key the JWKS does not hold. */
  signWithForeignKey(claims?: JWTPayload): Promise<string>;
  /** Deletes the JWKS file. */
  dispose(): void;
}

/** A token issuer of its own for tests: a fresh ES256 key pair, its public half in a temp JWKS file. */
export async function makeIssuer(issuer = 'https://issuer.test', audience = 'presence-graph'): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const foreign = await generateKeyPair('ES256');
  const dir = mkdtempSync(join(tmpdir(), 'presence-jwks-'));
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' }] }));
  const build = (claims: JWTPayload, options: SignOptions) => {
    const signed = new SignJWT({ sub: 'fleet-dashboard', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
      .setIssuer(options.issuer ?? issuer)
      .setAudience(options.audience ?? audience);
    const token = options.issuedAt === null ? signed : signed.setIssuedAt(options.issuedAt);
    return options.expiresAt === null ? token : token.setExpirationTime(options.expiresAt ?? Math.floor(Date.now() / 1000) + 300);
  };
  return {
    issuer,
    audience,
    jwksFile,
    sign: (claims = {}, options = {}) => build(claims, options).sign(privateKey),
    signWithForeignKey: (claims = {}) => build(claims, {}).sign(foreign.privateKey),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
