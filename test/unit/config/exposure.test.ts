import { ConfigError, loadConfig } from '../../../src/config';
import { makeApiKey } from '../../support/credentials';

const key = makeApiKey('ops', { instances: ['*'], groups: ['*'] });
const withKeys = { AUTH_MODE: 'apikey', API_KEYS: JSON.stringify([key.entry]) };
const cloud = { PRESENCE_SOURCE: 'alibaba', ALIBABA_CLOUD_REGION_ID: 'cn-hangzhou' };

/** What a start exposes, and to whom, when the operator says nothing. */
describe('loadConfig: what the service exposes by default', () => {
  it('listens on loopback while developing, and on every interface in production', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'production', ...withKeys, ...cloud }).host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0', ALLOWED_HOSTS: 'localhost' }).host).toBe('0.0.0.0');
  });

  it('answers only for the loopback names when listening on loopback, so a rebinding page\'s name is refused', () => {
    expect(loadConfig({}).web.allowedHosts).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(loadConfig({ HOST: '::1' }).web.allowedHosts).toEqual(['localhost', '127.0.0.1', '[::1]']);
  });

  it('reads ALLOWED_HOSTS as names without port, lower-cased, or * for any', () => {
    expect(loadConfig({ ALLOWED_HOSTS: 'Presence.Example.com, 10.0.0.5,[::1]' }).web.allowedHosts).toEqual(['presence.example.com', '10.0.0.5', '[::1]']);
    expect(loadConfig({ ALLOWED_HOSTS: '*' }).web.allowedHosts).toBeUndefined();
    expect(() => loadConfig({ ALLOWED_HOSTS: 'presence.example.com:4000' })).toThrow(/ALLOWED_HOSTS must list host names or addresses without port or scheme .* got "presence.example.com:4000"/);
    expect(() => loadConfig({ ALLOWED_HOSTS: 'https://presence.example.com' })).toThrow(/ALLOWED_HOSTS must list host names/);
    expect(() => loadConfig({ ALLOWED_HOSTS: '*, localhost' })).toThrow(/ALLOWED_HOSTS is either \* alone or a list of names/);
  });

  it('refuses anonymous callers on a network interface without ALLOWED_HOSTS, and accepts any name when callers need credentials', () => {
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(new RegExp('HOST=0.0.0.0 serves anonymous callers beyond this machine: set ALLOWED_HOSTS'));
    expect(() => loadConfig({ NODE_ENV: 'production', ALLOW_ANONYMOUS: 'true', ...cloud })).toThrow(/set ALLOWED_HOSTS/);
    expect(loadConfig({ HOST: '0.0.0.0', ...withKeys }).web.allowedHosts).toBeUndefined();
  });

  it('refuses Alibaba Cloud without caller authentication in every environment, unless ALLOW_ANONYMOUS=true', () => {
    const refusal = /PRESENCE_SOURCE=alibaba needs caller authentication \(AUTH_MODE=apikey or AUTH_MODE=jwt\), in every environment: .* set ALLOW_ANONYMOUS=true/;
    expect(() => loadConfig(cloud)).toThrow(refusal);
    expect(() => loadConfig({ ...cloud, NODE_ENV: 'test' })).toThrow(refusal);
    expect(loadConfig({ ...cloud, ALLOW_ANONYMOUS: 'true' }).security.authMode).toBe('none');
    expect(loadConfig({ ...cloud, ...withKeys }).security.authMode).toBe('apikey');
  });

  it('refuses the local instance in production unless LOCAL_IN_PRODUCTION=true asks for it', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...withKeys })).toThrow(
      new ConfigError(
        "NODE_ENV=production with PRESENCE_SOURCE=local (the default) would serve the local instance's made-up devices: set PRESENCE_SOURCE=alibaba, or LOCAL_IN_PRODUCTION=true to serve the local instance on purpose (a demo)",
      ),
    );
    expect(() => loadConfig({ NODE_ENV: 'production', PRESENCE_SOURCE: 'local', ...withKeys })).toThrow(/LOCAL_IN_PRODUCTION=true/);
    expect(loadConfig({ NODE_ENV: 'production', LOCAL_IN_PRODUCTION: 'true', ...withKeys }).source).toBe('local');
    expect(() => loadConfig({ LOCAL_IN_PRODUCTION: 'sure' })).toThrow('LOCAL_IN_PRODUCTION must be true or false; got "sure"');
  });

  it('serves the operator endpoints on the GraphQL port while developing, and on OPS_PORT 9464 in production', () => {
    expect(loadConfig({}).web.ops).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'production', ...withKeys, ...cloud }).web.ops).toEqual({ host: '0.0.0.0', port: 9464, allowedHosts: undefined });
    expect(loadConfig({ OPS_PORT: '9100' }).web.ops).toEqual({ host: '127.0.0.1', port: 9100, allowedHosts: ['localhost', '127.0.0.1', '[::1]'] });
    expect(loadConfig({ NODE_ENV: 'production', ...withKeys, ...cloud, OPS_HOST: '10.0.0.5' }).web.ops).toMatchObject({ host: '10.0.0.5', port: 9464 });
  });

  it('refuses an OPS_PORT equal to PORT, an OPS_HOST without OPS_PORT while developing, and a port out of range', () => {
    expect(() => loadConfig({ PORT: '4000', OPS_PORT: '4000' })).toThrow(/OPS_PORT must differ from PORT \(both 4000\)/);
    expect(() => loadConfig({ OPS_HOST: '0.0.0.0' })).toThrow(/OPS_HOST is set without OPS_PORT/);
    expect(() => loadConfig({ OPS_PORT: '70000' })).toThrow(/OPS_PORT must be a whole number from 0 to 65535/);
  });

  it('caps the WebSockets one address holds before authentication, 10 by default', () => {
    expect(loadConfig({}).security.limits.maxUnauthenticatedSocketsPerAddress).toBe(10);
    expect(loadConfig({ MAX_UNAUTHENTICATED_SOCKETS_PER_ADDRESS: '2' }).security.limits.maxUnauthenticatedSocketsPerAddress).toBe(2);
    expect(() => loadConfig({ MAX_UNAUTHENTICATED_SOCKETS_PER_ADDRESS: '0' })).toThrow(/MAX_UNAUTHENTICATED_SOCKETS_PER_ADDRESS must be a whole number from 1/);
  });

  it('bounds a JWT\'s lifetime to a day and the clock skew to 5 s by default', () => {
    const jwt = { AUTH_MODE: 'jwt', JWT_JWKS_URL: 'https://issuer.example/jwks.json', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' };
    expect(loadConfig(jwt).security.jwt).toMatchObject({ maxLifetimeSeconds: 86400, clockSkewSeconds: 5 });
    expect(loadConfig({ ...jwt, JWT_MAX_LIFETIME_SECONDS: '3600', JWT_CLOCK_SKEW_SECONDS: '30' }).security.jwt).toMatchObject({ maxLifetimeSeconds: 3600, clockSkewSeconds: 30 });
    expect(() => loadConfig({ ...jwt, JWT_MAX_LIFETIME_SECONDS: '0' })).toThrow(/JWT_MAX_LIFETIME_SECONDS must be a whole number from 60/);
    expect(() => loadConfig({ ...jwt, JWT_CLOCK_SKEW_SECONDS: '3600' })).toThrow(/JWT_CLOCK_SKEW_SECONDS must be a whole number from 0 to 300/);
  });
});
