import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config';
import { makeApiKey } from '../../support/credentials';

describe('loadConfig: security', () => {
  const dashboard = makeApiKey('dashboard', { instances: ['mqtt-cn-prod'], groups: ['GID_fleet-*'] });
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'presence-config-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves anonymous callers by default outside production, with introspection and the documented limits', () => {
    const { security } = loadConfig({});
    expect(security).toMatchObject({ authMode: 'none', introspection: true, callerLookupsPerSecond: 250 });
    expect(security.limits).toEqual({
      maxTokens: 2000,
      maxDepth: 8,
      maxAliases: 30,
      maxDirectives: 10,
      maxCost: 2000,
      maxQueryBytes: 8192,
      maxSubscriptionsPerConnection: 20,
      maxConnectionsPerCaller: 20,
      maxFields: 250,
      maxWatchedDevicesPerCaller: 1000,
      maxUnauthenticatedSocketsPerAddress: 10,
    });
  });

  it('reads the query text, subscription and connection caps, and refuses values outside their ranges', () => {
    const { limits } = loadConfig({ MAX_QUERY_BYTES: '4096', MAX_SUBSCRIPTIONS_PER_CONNECTION: '5', MAX_CONNECTIONS_PER_CALLER: '3' }).security;
    expect(limits).toMatchObject({ maxQueryBytes: 4096, maxSubscriptionsPerConnection: 5, maxConnectionsPerCaller: 3 });
    expect(() => loadConfig({ MAX_QUERY_BYTES: '10' })).toThrow(/MAX_QUERY_BYTES must be a whole number from 256 to 1048576; got "10"/);
    expect(() => loadConfig({ MAX_SUBSCRIPTIONS_PER_CONNECTION: '0' })).toThrow(/MAX_SUBSCRIPTIONS_PER_CONNECTION must be a whole number from 1/);
    expect(() => loadConfig({ MAX_CONNECTIONS_PER_CALLER: 'many' })).toThrow(/MAX_CONNECTIONS_PER_CALLER must be a whole number from 1/);
  });

  it('refuses to start in production without authentication, saying how to fix it', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', AUTH_MODE: 'none' })).toThrow(
      /NODE_ENV=production needs caller authentication: set AUTH_MODE=apikey .* or AUTH_MODE=jwt .*; to serve anonymous callers on purpose, set ALLOW_ANONYMOUS=true/,
    );
  });

  it('starts anonymous in production only when ALLOW_ANONYMOUS=true says so, with introspection and GraphiQL off', () => {
    const anonymous = { NODE_ENV: 'production', ALLOW_ANONYMOUS: 'true', LOCAL_IN_PRODUCTION: 'true', HOST: '127.0.0.1' };
    const config = loadConfig(anonymous);
    expect(config.security).toMatchObject({ authMode: 'none', introspection: false });
    expect(config.web.graphiqlEnabled).toBe(false);
    expect(loadConfig({ ...anonymous, INTROSPECTION: 'true' }).security.introspection).toBe(true);
  });

  it('refuses keys or token settings given for a mode that is not on, rather than leave the API open unnoticed', () => {
    expect(() => loadConfig({ API_KEYS: JSON.stringify([dashboard.entry]) })).toThrow(
      'API_KEYS is set but AUTH_MODE is none: set AUTH_MODE=apikey to use it, or unset it',
    );
    expect(() => loadConfig({ AUTH_MODE: 'jwt', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_JWKS_FILE: '/x', API_KEYS_FILE: '/k' })).toThrow(
      /API_KEYS_FILE is set but AUTH_MODE is jwt/,
    );
    expect(() => loadConfig({ AUTH_MODE: 'apikey', API_KEYS: JSON.stringify([dashboard.entry]), JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' })).toThrow(
      'JWT_ISSUER, JWT_AUDIENCE are set but AUTH_MODE is apikey: set AUTH_MODE=jwt to use them, or unset them',
    );
  });

  it('reads ALLOW_ANONYMOUS as a flag in every environment, not only in production', () => {
    expect(() => loadConfig({ ALLOW_ANONYMOUS: 'yes' })).toThrow('ALLOW_ANONYMOUS must be true or false; got "yes"');
  });

  it('reads API keys inline or from a file, as digests with scopes', () => {
    expect(loadConfig({ AUTH_MODE: 'apikey', API_KEYS: JSON.stringify([dashboard.entry]) }).security.apiKeys).toEqual([dashboard.entry]);
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify([{ ...dashboard.entry, sha256: dashboard.entry.sha256.toUpperCase() }]));
    expect(loadConfig({ AUTH_MODE: 'apikey', API_KEYS_FILE: file }).security.apiKeys).toEqual([dashboard.entry]);
  });

  it('refuses an apikey mode without keys, or with both sources', () => {
    expect(() => loadConfig({ AUTH_MODE: 'apikey' })).toThrow(/AUTH_MODE=apikey needs API_KEYS or API_KEYS_FILE/);
    expect(() => loadConfig({ AUTH_MODE: 'apikey', API_KEYS: '[]' })).toThrow(/with at least one key/);
    expect(() => loadConfig({ AUTH_MODE: 'apikey', API_KEYS: '[]', API_KEYS_FILE: '/x' })).toThrow(/not both/);
    expect(() => loadConfig({ AUTH_MODE: 'apikey', API_KEYS_FILE: join(dir, 'missing.json') })).toThrow(/API_KEYS_FILE: cannot read .*ENOENT/);
  });

  it('refuses a key configured in clear text without ever repeating it', () => {
    const refusal = (env: Record<string, string>): string => {
      try {
        loadConfig({ AUTH_MODE: 'apikey', ...env });
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('loadConfig accepted it');
    };
    const pasted = refusal({ API_KEYS: JSON.stringify([{ ...dashboard.entry, sha256: dashboard.key }]) });
    expect(pasted).toMatch(/API_KEYS\[0\]\.sha256 must be the 64 hex characters .* never the key itself/);
    expect(pasted).not.toContain(dashboard.key);
    const notJson = refusal({ API_KEYS: dashboard.key });
    expect(notJson).toBe('API_KEYS is not valid JSON');
  });

  it('refuses bad scope patterns and duplicate keys', () => {
    const withGroups = (groups: unknown) => JSON.stringify([{ ...dashboard.entry, groups }]);
    expect(() => loadConfig({ AUTH_MODE: 'apikey', API_KEYS: withGroups(['GID_*x']) })).toThrow(/API_KEYS\[0\]\.groups must be an array of names, prefixes ending in \*/);
    expect(() => loadConfig({ AUTH_MODE: 'apikey', API_KEYS: withGroups('GID_fleet') })).toThrow(/groups must be an array/);
    const twice = JSON.stringify([dashboard.entry, { ...dashboard.entry, name: 'copy' }]);
    expect(() => loadConfig({ AUTH_MODE: 'apikey', API_KEYS: twice })).toThrow('API_KEYS: two keys have the same sha256');
  });

  it('needs an issuer, an audience and exactly one key set in jwt mode', () => {
    const jwks = join(dir, 'jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] }));
    expect(() => loadConfig({ AUTH_MODE: 'jwt', JWT_JWKS_FILE: jwks })).toThrow(/AUTH_MODE=jwt needs JWT_ISSUER, JWT_AUDIENCE, and one of JWT_JWKS_URL or JWT_JWKS_FILE/);
    expect(() => loadConfig({ AUTH_MODE: 'jwt', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' })).toThrow(/one of JWT_JWKS_URL or JWT_JWKS_FILE/);
    const config = loadConfig({ AUTH_MODE: 'jwt', JWT_JWKS_FILE: jwks, JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_GROUPS_CLAIM: 'mqtt_groups' });
    expect(config.security.jwt).toMatchObject({ issuer: 'i', audience: 'a', instancesClaim: 'instances', groupsClaim: 'mqtt_groups' });
    expect(config.security.jwt?.jwks?.keys).toHaveLength(1);
    const remote = loadConfig({ AUTH_MODE: 'jwt', JWT_JWKS_URL: 'https://issuer.example/.well-known/jwks.json', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' });
    expect(remote.security.jwt?.jwksUrl).toBe('https://issuer.example/.well-known/jwks.json');
  });

  it('names a key set URL as its example when JWT_JWKS_URL is not a URL', () => {
    expect(() => loadConfig({ AUTH_MODE: 'jwt', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_JWKS_URL: 'notaurl' })).toThrow(
      'JWT_JWKS_URL must be a URL such as https://login.example.com/.well-known/jwks.json; got "notaurl"',
    );
  });

  it('refuses a key set fetched over plain http from another machine, where anyone on the path could swap the keys', () => {
    const jwt = (url: string) => loadConfig({ AUTH_MODE: 'jwt', JWT_JWKS_URL: url, JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' });
    expect(() => jwt('http://issuer.example/jwks.json')).toThrow(/JWT_JWKS_URL must use https \(plain http only to this machine\)/);
    expect(jwt('http://127.0.0.1:8080/jwks.json').security.jwt?.jwksUrl).toBe('http://127.0.0.1:8080/jwks.json');
  });
});
