import { postGraphQL } from '../../support/graphql-client';
import { readyUrl, startMain } from '../../support/main-process';

/**
 * Presence is fleet intelligence and every lookup is billed: in production the service refuses to
 * start without caller authentication unless ALLOW_ANONYMOUS=true says anonymous callers are meant.
 */
describe('starting in production', () => {
  it('refuses to start without AUTH_MODE, with a message saying what to set, and exit code 2', async () => {
    const main = startMain({ NODE_ENV: 'production' });
    expect(await main.exited).toBe(2);
    expect(main.output()).toContain('NODE_ENV=production needs caller authentication: set AUTH_MODE=apikey');
    expect(main.output()).toContain('set ALLOW_ANONYMOUS=true');
  });

  it('refuses to serve the local instance\'s made-up devices in production unless LOCAL_IN_PRODUCTION=true asks for them', async () => {
    const main = startMain({ NODE_ENV: 'production', ALLOW_ANONYMOUS: 'true' });
    expect(await main.exited).toBe(2);
    expect(main.output()).toContain("NODE_ENV=production with PRESENCE_SOURCE=local (the default) would serve the local instance's made-up devices");
  });

  it('starts anonymous when ALLOW_ANONYMOUS=true says so, with introspection off', async () => {
    const main = startMain({ NODE_ENV: 'production', ALLOW_ANONYMOUS: 'true', LOCAL_IN_PRODUCTION: 'true' });
    try {
      const url = await readyUrl(main);
      expect(await postGraphQL(url, '{ device(clientId: "GID_demo@@@device-1") { online(exact: true) } }')).toEqual({
        status: 200,
        data: { device: { online: true } },
      });
      const introspection = await postGraphQL(url, '{ __schema { queryType { name } } }');
      // Refused in validation; 200 in application/json, as the GraphQL-over-HTTP spec recommends.
      expect(introspection.status).toBe(200);
      expect(introspection.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      main.child.kill('SIGTERM');
      expect(await main.exited).toBe(0);
    } finally {
      main.child.kill('SIGKILL');
    }
  });
});
