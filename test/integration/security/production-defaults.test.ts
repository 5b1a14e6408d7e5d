import { bearer, opsKey, postJson, startApiKeyGraph } from '../../support/secured-graph';
import type { TestGraph } from '../../support/test-graph';

/**
 * NODE_ENV=production: introspection off (INTROSPECTION=true turns it on), no field suggestions
 * that would leak the schema anyway, no stack traces, and CSRF prevention on GETs (credentials count). A development
 * graph is started beside it to show what production hides.
 */
describe('production defaults', () => {
  let production: TestGraph;
  let development: TestGraph;
  const asOps = bearer(opsKey.key);

  beforeAll(async () => {
    [production, development] = await Promise.all([startApiKeyGraph({ NODE_ENV: 'production', LOCAL_IN_PRODUCTION: 'true' }), startApiKeyGraph()]);
  });
  afterAll(async () => {
    await production?.stop();
    await development?.stop();
  });
  beforeEach(() => {
    production.local!.emulator.resetCalls();
    development.local!.emulator.resetCalls();
  });

  it('refuses introspection in production, and allows it in development', async () => {
    const introspection = { query: '{ __schema { types { name } } }' };
    const refused = await postJson(production.url, introspection, asOps);
    const allowed = await postJson(development.url, introspection, asOps);

    // A validation failure in application/json: 200, as the GraphQL-over-HTTP spec recommends (no data, the errors).
    expect(refused.status).toBe(200);
    expect(refused.body.data).toBeUndefined();
    expect(refused.body.errors[0]).toMatchObject({ message: expect.stringMatching(/^Introspection is off on this server \(the operator turns it on with INTROSPECTION=true/), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(allowed.status).toBe(200);
    expect(production.local!.emulator.calls).toEqual([]);
  });

  it('gives no field suggestions in production, where development would say "Did you mean"', async () => {
    const typo = { query: '{ device(clientId: "GID_fleet-eu@@@truck-1") { onlin } }' };
    const hidden = await postJson(production.url, typo, asOps);
    const suggested = await postJson(development.url, typo, asOps);

    expect(hidden.status).toBe(200);
    expect(hidden.body.data).toBeUndefined();
    expect(hidden.body.errors[0].message).toMatch(/Cannot query field "onlin" on type "Device"/);
    expect(hidden.body.errors[0].message).not.toMatch(/Did you mean/);
    expect(suggested.body.errors[0].message).toMatch(/Did you mean "online"/);
    expect(production.local!.emulator.calls).toEqual([]);
  });

  it('never sends a stack trace', async () => {
    const invalid = await postJson(production.url, { query: '{ device { online } }' }, asOps);

    expect(invalid.status).toBe(200);
    expect(invalid.body.data).toBeUndefined();
    expect(JSON.stringify(invalid.body)).not.toMatch(/stacktrace|at .*\.(js|ts):\d+/);
  });

  it('runs a GET query only with credentials, whose header forces a preflight: a page cannot send one without CORS (CSRF prevention)', async () => {
    const url = `${production.url}?query=${encodeURIComponent('{ device(clientId: "GID_fleet-eu@@@truck-1") { online } }')}`;
    const simple = await fetch(url);

    expect(simple.status).toBe(401);
    expect(production.local!.emulator.calls).toEqual([]);

    for (const headers of [asOps, { 'x-api-key': opsKey.key }, { ...asOps, 'apollo-require-preflight': 'true' }]) {
      const answered = await fetch(url, { headers });
      expect(answered.status).toBe(200);
      expect(await answered.json()).toEqual({ data: { device: { online: false } } });
    }
  });
});
