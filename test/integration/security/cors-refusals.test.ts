import { linesSaying } from '../../support/captured-logs';
import { startTestGraph, type TestGraph } from '../../support/test-graph';

describe('refused cross-origin requests in the log', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startTestGraph({ CORS_ORIGINS: 'https://app.example.com' });
  });
  afterAll(async () => {
    await graph?.stop();
  });

  const preflight = (origin: string) =>
    fetch(graph.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });

  it('logs a refused preflight at once, then at most one line per 10 s however many follow, the Origin truncated', async () => {
    const attacker = `https://evil.example/${'x'.repeat(500)}`;
    for (let i = 0; i < 30; i++) {
      const response = await preflight(attacker);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
    const refused = linesSaying(graph.logs, 'connection refused: origin not allowed');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ reason: 'origin not allowed', transport: 'http', last: attacker.slice(0, 100) });
    expect(graph.logs.join('')).not.toContain('x'.repeat(101));
  });

  it('logs nothing for an allowed origin, nor for the service’s own pages (same host)', async () => {
    const before = linesSaying(graph.logs, 'origin not allowed').length;
    const allowed = await preflight('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const own = new URL(graph.url).origin;
    const sameOrigin = await fetch(graph.url, { method: 'POST', headers: { origin: own, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(sameOrigin.status).toBe(200);
    expect(linesSaying(graph.logs, 'origin not allowed')).toHaveLength(before);
  });
});
