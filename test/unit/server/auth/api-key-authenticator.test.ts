import { ApiKeyAuthenticator } from '../../../../src/server/auth/api-key-authenticator';
import { bearerToken } from '../../../../src/server/auth/authenticator';
import { makeApiKey } from '../../../support/credentials';

describe('ApiKeyAuthenticator', () => {
  const dashboard = makeApiKey('dashboard', { instances: ['mqtt-cn-prod'], groups: ['GID_fleet-*'] });
  const ops = makeApiKey('ops', { instances: ['*'], groups: ['*'] });
  const authenticator = new ApiKeyAuthenticator([dashboard.entry, ops.entry]);

  it('names the caller of a known key, with that key’s scope', async () => {
    await expect(authenticator.authenticate({ bearer: dashboard.key })).resolves.toEqual({
      name: 'dashboard',
      scope: { instances: ['mqtt-cn-prod'], groups: ['GID_fleet-*'] },
    });
    await expect(authenticator.authenticate({ apiKey: ops.key })).resolves.toMatchObject({ name: 'ops' });
  });

  it('refuses a missing key with UNAUTHENTICATED', async () => {
    await expect(authenticator.authenticate({})).rejects.toMatchObject({ code: 'UNAUTHENTICATED', reason: 'missing' });
  });

  it('refuses an unknown key, a key one character off, and the digest itself, never repeating them', async () => {
    for (const presented of ['nope', oneCharacterOff(dashboard.key), dashboard.entry.sha256]) {
      const refusal = authenticator.authenticate({ bearer: presented });
      await expect(refusal).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'Invalid API key' });
    }
  });

  it('prefers the Authorization header over x-api-key when both are sent', async () => {
    await expect(authenticator.authenticate({ bearer: ops.key, apiKey: dashboard.key })).resolves.toMatchObject({ name: 'ops' });
  });

  it('reads the token of a Bearer Authorization header only', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

/** The key with its last character changed: always different from the key, whatever it ends with. */
function oneCharacterOff(key: string): string {
  return key.slice(0, -1) + (key.endsWith('x') ? 'y' : 'x');
}
