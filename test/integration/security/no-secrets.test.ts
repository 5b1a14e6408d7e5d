import { LOCAL_DEFAULTS } from '../../../src/config';
import { makeIssuer, type TestIssuer } from '../../support/credentials';
import { bearer, dashboardKey, opsKey, startApiKeyGraph } from '../../support/secured-graph';
import { startTestGraph, type TestGraph } from '../../support/test-graph';

/**
 * The AccessKey secret, API keys and JWTs never appear in logs, responses or metrics: every attack of
 * this folder is run again against an API-key graph and a JWT graph, logging at debug, and all that
 * came out is searched for every secret that went in.
 */
describe('secrets under attack', () => {
  let issuer: TestIssuer;
  let keyGraph: TestGraph;
  let jwtGraph: TestGraph;

  beforeAll(async () => {
    issuer = await makeIssuer();
    [keyGraph, jwtGraph] = await Promise.all([
      startApiKeyGraph({ CALLER_LOOKUPS_PER_SECOND: '5' }),
      startTestGraph({ AUTH_MODE: 'jwt', JWT_JWKS_FILE: issuer.jwksFile, JWT_ISSUER: issuer.issuer, JWT_AUDIENCE: issuer.audience }),
    ]);
  });
  afterAll(async () => {
    await keyGraph?.stop();
    await jwtGraph?.stop();
    issuer?.dispose();
  });

  /** Sends a request and keeps everything the service answered, headers included. */
  async function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<string> {
    const response = await fetch(url, {
      method: init.method ?? 'POST',
      headers: { 'content-type': 'application/json', ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return `${JSON.stringify([...response.headers])}\n${await response.text()}`;
  }

  it('leaves no AccessKey secret, API key or JWT in any log line, response or metric', async () => {
    const nearMiss = `${opsKey.key.slice(0, -2)}zz`;
    const badSignature = await issuer.signWithForeignKey({ instances: ['*'], groups: ['*'] });
    const wrongAudience = await issuer.sign({ instances: ['*'], groups: ['*'] }, { audience: 'billing-api' });
    const expired = await issuer.sign({ instances: ['*'], groups: ['*'] }, { expiresAt: Math.floor(Date.now() / 1000) - 60 });
    const valid = await issuer.sign({ instances: [LOCAL_DEFAULTS.instanceId], groups: ['GID_fleet-*'] });
    const device = (clientId: string) => ({ query: `{ device(clientId: "${clientId}") { online(exact: true) presence { online } } }` });
    const aliases = { query: `{ ${Array.from({ length: 101 }, (_, i) => `a${i}: device(clientId: "GID_fleet-eu@@@t") { online }`).join(' ')} }` };
    const manyIds = { query: 'query Q($ids: [ID!]!) { devices(clientIds: $ids) { online } }', variables: { ids: Array.from({ length: 3500 }, (_, i) => `GID_abc@@@${i}`) } };
    const flood = { query: 'query Q($ids: [ID!]!) { devices(clientIds: $ids) { online } }', variables: { ids: Array.from({ length: 50 }, (_, i) => `GID_fleet-eu@@@t${i}`) } };

    const outputs = await Promise.all([
      send(keyGraph.url, { body: device('GID_fleet-eu@@@t1') }),
      send(keyGraph.url, { body: device('GID_fleet-eu@@@t1'), headers: bearer(nearMiss) }),
      send(keyGraph.url, { body: device('GID_fleet-eu@@@t1'), headers: { 'x-api-key': nearMiss } }),
      send(keyGraph.url, { body: device('GID_payroll@@@m1'), headers: bearer(dashboardKey.key) }),
      send(keyGraph.url, { body: aliases, headers: bearer(opsKey.key) }),
      send(keyGraph.url, { body: manyIds, headers: bearer(opsKey.key) }),
      send(keyGraph.url, { body: Array.from({ length: 10 }, (_, i) => device(`GID_fleet-eu@@@t${i}`)), headers: bearer(opsKey.key) }),
      send(keyGraph.url, { body: flood, headers: bearer(opsKey.key) }),
      send(`${keyGraph.url}?query=${encodeURIComponent('{ __schema { types { name } } }')}`, { method: 'GET', headers: bearer(opsKey.key) }),
      send(keyGraph.url, { body: { query: '{ device(clientId: "GID_fleet-eu@@@t1") { onlin } }' }, headers: bearer(opsKey.key) }),
      send(keyGraph.url, { body: '{"query": ', headers: bearer(opsKey.key) }),
      ...[badSignature, wrongAudience, expired, valid].map((token) => send(jwtGraph.url, { body: device('GID_fleet-eu@@@t1'), headers: bearer(token) })),
      send(jwtGraph.url, { body: device('GID_payroll@@@m1'), headers: bearer(valid) }),
      send(keyGraph.url.replace('/graphql', '/metrics'), { method: 'GET' }),
      send(jwtGraph.url.replace('/graphql', '/metrics'), { method: 'GET' }),
    ]);

    const everything = [...outputs, ...keyGraph.logs, ...jwtGraph.logs].join('\n');
    // The attacks did reach the service and were logged at all, so the search below means something.
    expect(keyGraph.logs.some((line) => line.includes('caller refused'))).toBe(true);
    expect(jwtGraph.logs.some((line) => line.includes('caller refused'))).toBe(true);
    for (const secret of [LOCAL_DEFAULTS.accessKeySecret, opsKey.key, dashboardKey.key, nearMiss, badSignature, wrongAudience, expired, valid]) {
      expect(everything).not.toContain(secret);
    }
    // Nor the signature part alone of any token, which is what makes it usable.
    for (const token of [badSignature, wrongAudience, expired, valid]) expect(everything).not.toContain(token.split('.')[2]);
  });
});
