import { graphqlWsClient, subscribe } from '../../support/graphql-ws-client';
import { bearer, dashboardKey, opsKey, postJson, startApiKeyGraph } from '../../support/secured-graph';
import { BATCH_PATH_ONLY, type TestGraph } from '../../support/test-graph';

/**
 * A flood from one caller, over its share of operations: refused before its body is read, and paced,
 * so that a client re-sending as soon as it is answered waits its retry time on each connection
 * (docs/security.md, "Admission order and floods"). A share of 1 per second: a refusal's retry time
 * is most of a second, far above what a request costs even on a busy machine.
 */
const QUERY = '{ device(clientId: "GID_fleet-eu@@@truck-1") { clientId } }';
const asOps = bearer(opsKey.key);

describe('a flood from one caller', () => {
  let graph: TestGraph;

  beforeAll(async () => {
    graph = await startApiKeyGraph({ ...BATCH_PATH_ONLY, CALLER_OPERATIONS_PER_SECOND: '1' });
  });
  afterAll(async () => {
    await graph?.stop();
  });
  // Each test starts with a full share: one token, refilled in a second.
  beforeEach(() => new Promise((resolve) => setTimeout(resolve, 1100)));

  it('is refused over HTTP before its body is read, the refusal answered once its retry time has passed', async () => {
    expect((await postJson(graph.url, { query: QUERY }, asOps)).status).toBe(200);
    const started = performance.now();
    // Not JSON at all: read, it would be a 400.
    const refused = await postJson(graph.url, '{ not json', asOps);
    const elapsedMs = performance.now() - started;
    expect(refused.status).toBe(429);
    expect(refused.body.errors).toEqual([
      { message: expect.stringContaining('(1, CALLER_OPERATIONS_PER_SECOND)'), extensions: { code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) } },
    ]);
    const { retryAfterMs } = refused.body.errors[0].extensions;
    expect(retryAfterMs).toBeGreaterThan(0);
    // Held for its retry time: timers fire no earlier than asked, give or take their millisecond rounding.
    expect(elapsedMs).toBeGreaterThanOrEqual(retryAfterMs - 1);
    // The body had no operation: with a token back, it is read and refused for what it is.
    expect((await postJson(graph.url, '{ not json', asOps)).status).toBe(400);
    // Another caller was never held.
    expect((await postJson(graph.url, { query: QUERY }, bearer(dashboardKey.key))).status).toBe(200);
  });

  it('is refused over Server-Sent Events before its body is read, the refusal answered once its retry time has passed', async () => {
    const stream = (body: string) =>
      fetch(`${graph.url}/stream`, { method: 'POST', headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...asOps }, body });
    const admitted = await stream(JSON.stringify({ query: QUERY }));
    expect(admitted.status).toBe(200);
    expect(await admitted.text()).toMatch(/event: next[\s\S]*event: complete/);
    const started = performance.now();
    // Not JSON at all: read, it would be a 400.
    const refused = await stream('{ not json');
    const elapsedMs = performance.now() - started;
    expect(refused.status).toBe(429);
    const { errors } = (await refused.json()) as { errors: Array<{ message: string; extensions: { code: string; retryAfterMs: number } }> };
    expect(errors).toEqual([
      { message: expect.stringContaining('(1, CALLER_OPERATIONS_PER_SECOND)'), extensions: { code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) } },
    ]);
    expect(errors[0].extensions.retryAfterMs).toBeGreaterThan(0);
    expect(elapsedMs).toBeGreaterThanOrEqual(errors[0].extensions.retryAfterMs - 1);
    // With a token back, the body is read and refused for what it is.
    expect((await stream('{ not json')).status).toBe(400);
  });

  it('is refused over WebSocket at once, and the socket read no further until the retry time has passed', async () => {
    const client = graphqlWsClient(graph.url, asOps);
    try {
      expect(await subscribe(client, QUERY).ended()).toEqual({ completed: true });
      const sentAt = performance.now();
      const refused = await subscribe(client, QUERY).ended();
      expect(refused).toEqual({ errors: [expect.objectContaining({ extensions: { code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) } })] });
      const retryAfterMs = 'errors' in refused ? Number(refused.errors[0].extensions?.retryAfterMs) : NaN;
      expect(retryAfterMs).toBeGreaterThan(0);
      // The next subscribe on that socket is read, and admitted, only once the share has room again.
      expect(await subscribe(client, QUERY).ended()).toEqual({ completed: true });
      expect(performance.now() - sentAt).toBeGreaterThanOrEqual(retryAfterMs - 1);
    } finally {
      await client.dispose();
    }
  });
});
