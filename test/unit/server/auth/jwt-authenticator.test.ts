import { JwtAuthenticator } from '../../../../src/server/auth/jwt-authenticator';
import { capturedLogger } from '../../../support/captured-logs';
import { makeIssuer, type TestIssuer } from '../../../support/credentials';
import { readFileSync } from 'node:fs';
import type { JwtConfig } from '../../../../src/config';

describe('JwtAuthenticator', () => {
  let issuer: TestIssuer;
  let authenticator: JwtAuthenticator;
  const logs = capturedLogger();

  beforeAll(async () => {
    issuer = await makeIssuer();
    const config: JwtConfig = {
      jwks: JSON.parse(readFileSync(issuer.jwksFile, 'utf8')),
      issuer: issuer.issuer,
      audience: issuer.audience,
      instancesClaim: 'instances',
      groupsClaim: 'https://presence.example/groups',
      maxLifetimeSeconds: 3600,
      clockSkewSeconds: 5,
    };
    authenticator = new JwtAuthenticator(config, logs.logger);
  });
  afterAll(() => issuer.dispose());

  it('names the caller by the token subject, with the scope of its claims', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 300;
    const token = await issuer.sign({ sub: 'fleet-ui', instances: ['mqtt-cn-prod'], 'https://presence.example/groups': 'GID_fleet-* GID_lab' }, { expiresAt });
    await expect(authenticator.authenticate({ bearer: token })).resolves.toEqual({
      name: 'fleet-ui',
      scope: { instances: ['mqtt-cn-prod'], groups: ['GID_fleet-*', 'GID_lab'] },
      // For connections that outlive the check (graphql-ws.ts): the token's exp, in milliseconds.
      expiresAtMs: expiresAt * 1000,
    });
  });

  it('gives a token without scope claims an empty scope', async () => {
    await expect(authenticator.authenticate({ bearer: await issuer.sign() })).resolves.toMatchObject({ scope: { instances: [], groups: [] } });
  });

  it('refuses a token signed by a key outside the JWKS', async () => {
    await expect(authenticator.authenticate({ bearer: await issuer.signWithForeignKey() })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: 'Invalid token',
    });
  });

  it('refuses a token for another audience or from another issuer', async () => {
    await expect(authenticator.authenticate({ bearer: await issuer.sign({}, { audience: 'billing' }) })).rejects.toMatchObject({
      reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
    await expect(authenticator.authenticate({ bearer: await issuer.sign({}, { issuer: 'https://evil.test' }) })).rejects.toMatchObject({
      reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
  });

  it('refuses an expired token, saying so', async () => {
    const expired = await issuer.sign({}, { expiresAt: Math.floor(Date.now() / 1000) - 60 });
    await expect(authenticator.authenticate({ bearer: expired })).rejects.toMatchObject({ message: 'Invalid token: it has expired' });
  });

  it('refuses a token that would never lapse, or lapse later than JWT_MAX_LIFETIME_SECONDS after it was issued', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const forever = await issuer.sign({}, { expiresAt: 1e20 });
    await expect(authenticator.authenticate({ bearer: forever })).rejects.toMatchObject({
      message: 'Invalid token: it lives longer than this service accepts (at most 3600 s from iat to exp)',
      reason: 'lifetime too long',
    });
    const issuedLongAgo = await issuer.sign({}, { issuedAt: nowS - 7200, expiresAt: nowS + 60 });
    await expect(authenticator.authenticate({ bearer: issuedLongAgo })).rejects.toMatchObject({ reason: 'lifetime too long' });
    await expect(authenticator.authenticate({ bearer: await issuer.sign({}, { expiresAt: nowS + 3600 }) })).resolves.toMatchObject({ name: 'fleet-dashboard' });
  });

  it('measures the lifetime from now when the token has no iat', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    await expect(authenticator.authenticate({ bearer: await issuer.sign({}, { issuedAt: null, expiresAt: nowS + 7200 }) })).rejects.toMatchObject({ reason: 'lifetime too long' });
    await expect(authenticator.authenticate({ bearer: await issuer.sign({}, { issuedAt: null, expiresAt: nowS + 600 }) })).resolves.toMatchObject({ name: 'fleet-dashboard' });
  });

  it('refuses a token issued in the future beyond the clock skew, and accepts one within it', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const ahead = await issuer.sign({}, { issuedAt: nowS + 600, expiresAt: nowS + 1200 });
    await expect(authenticator.authenticate({ bearer: ahead })).rejects.toMatchObject({ message: 'Invalid token: it was issued in the future (iat)', reason: 'iat in the future' });
    const slightlyAhead = await issuer.sign({}, { issuedAt: nowS + 3, expiresAt: nowS + 600 });
    await expect(authenticator.authenticate({ bearer: slightlyAhead })).resolves.toMatchObject({ name: 'fleet-dashboard' });
  });

  it('refuses a token without a subject, a malformed token, and no token', async () => {
    await expect(authenticator.authenticate({ bearer: await issuer.sign({ sub: undefined }) })).rejects.toMatchObject({ reason: 'no sub' });
    await expect(authenticator.authenticate({ bearer: 'not.a.jwt' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(authenticator.authenticate({ apiKey: 'whatever' })).rejects.toMatchObject({ reason: 'missing' });
  });

  it('refuses tokens while the JWKS endpoint is unreachable, and tells the operator without logging the token', async () => {
    const { logger, lines } = capturedLogger();
    const unreachable = new JwtAuthenticator(
      { jwksUrl: 'http://127.0.0.1:1/jwks.json', issuer: issuer.issuer, audience: issuer.audience, instancesClaim: 'instances', groupsClaim: 'groups', maxLifetimeSeconds: 3600, clockSkewSeconds: 5 },
      logger,
    );
    const token = await issuer.sign();
    await expect(unreachable.authenticate({ bearer: token })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: 'The token could not be verified right now; try again later',
      // The same token may pass once the key set is back: a WebSocket closes 4403, which clients retry.
      retryable: true,
    });
    expect(lines.join('')).toMatch(/JWT key set unavailable/);
    expect(lines.join('')).not.toContain(token);
  });
});
