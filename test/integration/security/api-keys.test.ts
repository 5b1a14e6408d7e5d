import { postGraphQL } from '../../support/graphql-client';
import { bearer, dashboardKey, opsKey, postJson, startApiKeyGraph } from '../../support/secured-graph';
import type { TestGraph } from '../../support/test-graph';

/**
 * AUTH_MODE=apikey: every /graphql request needs a known key, as `Authorization: Bearer <key>` or
 * `x-api-key`; without one the answer is HTTP 401 with UNAUTHENTICATED, before Apollo runs, and the
 * upstream sees nothing.
 */
describe('API key authentication', () => {
  let graph: TestGraph;
  const query = '{ device(clientId: "GID_fleet-eu@@@truck-1") { online } }';

  beforeAll(async () => {
    graph = await startApiKeyGraph();
  });
  afterAll(async () => {
    await graph?.stop();
  });
  beforeEach(() => graph.local!.emulator.resetCalls());

  it('refuses a request without a key with 401 UNAUTHENTICATED, and calls nothing upstream', async () => {
    const response = await fetch(graph.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await response.json()).toEqual({
      errors: [{ message: expect.stringMatching(/Authentication required/), extensions: { code: 'UNAUTHENTICATED' } }],
    });
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('refuses a wrong key, and a key sent with another scheme, with 401 and no upstream call', async () => {
    const wrong = await postJson(graph.url, { query }, bearer(`${opsKey.key}x`));
    const basic = await postJson(graph.url, { query }, { authorization: `Basic ${Buffer.from(`ops:${opsKey.key}`).toString('base64')}` });

    expect(wrong).toEqual({ status: 401, body: { errors: [{ message: 'Invalid API key', extensions: { code: 'UNAUTHENTICATED' } }] } });
    expect(basic.status).toBe(401);
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('refuses an unauthenticated batch before reading it', async () => {
    const batch = await postJson(graph.url, Array.from({ length: 10 }, () => ({ query })));
    expect(batch.status).toBe(401);
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('logs a flood of refused requests as one line, not one per request: anyone can be refused', async () => {
    const refusedLines = () => graph.logs.filter((line) => line.includes('"reason":"unknown key"')).length;
    const before = refusedLines();
    const responses = await Promise.all(Array.from({ length: 50 }, () => postJson(graph.url, { query }, bearer(`${opsKey.key}y`))));
    expect(responses.every((response) => response.status === 401)).toBe(true);
    expect(refusedLines() - before).toBeLessThanOrEqual(1);
  });

  it('answers a known key sent as a bearer token or as x-api-key', async () => {
    const asBearer = await postGraphQL(graph.url, query, undefined, bearer(dashboardKey.key));
    const asHeader = await postGraphQL(graph.url, query, undefined, { 'x-api-key': opsKey.key });

    expect(asBearer).toEqual({ status: 200, data: { device: { online: false } } });
    expect(asHeader).toEqual({ status: 200, data: { device: { online: false } } });
  });

  it('keeps the operator endpoints open: they carry no device data', async () => {
    expect((await fetch(graph.url.replace('/graphql', '/healthz'))).status).toBe(200);
  });
});
