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

  it('remembers only keys that matched: random keys never grow it, and a remembered key keeps its own caller', async () => {
    const fresh = new ApiKeyAuthenticator([dashboard.entry, ops.entry]);
    for (let i = 0; i < 50; i++) await expect(fresh.authenticate({ bearer: `random-${i}` })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(fresh.rememberedKeys).toBe(0);
    for (let i = 0; i < 3; i++) {
      await expect(fresh.authenticate({ bearer: dashboard.key })).resolves.toMatchObject({ name: 'dashboard' });
      await expect(fresh.authenticate({ apiKey: ops.key })).resolves.toMatchObject({ name: 'ops' });
    }
    expect(fresh.rememberedKeys).toBe(2);
    // After the keys are remembered, near misses still take the digest path and are refused.
    await expect(fresh.authenticate({ bearer: oneCharacterOff(dashboard.key) })).rejects.toMatchObject({ message: 'Invalid API key' });
    await expect(fresh.authenticate({ bearer: `${dashboard.key} ` })).rejects.toMatchObject({ message: 'Invalid API key' });
    expect(fresh.rememberedKeys).toBe(2);
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
