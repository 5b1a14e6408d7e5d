import { connect } from 'node:net';
import { startTestGraph, type TestGraph } from '../../support/test-graph';

/**
 * A client that sends its request a byte now and then must not hold a connection for minutes:
 * headers are due within 10 s (before authentication, so anyone could try). This test takes those
 * 10 s, on purpose: what it checks is the server's own timeout.
 */
describe('slow clients', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startTestGraph();
  });
  afterAll(async () => {
    await graph?.stop();
  });

  it('answers 408 and closes a connection whose headers are still coming after 10 s, long before Node\'s default 60 s', async () => {
    const { hostname, port } = new URL(graph.url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const started = Date.now();
    socket.write('POST /graphql HTTP/1.1\r\nHost: localhost\r\n');
    // One more header line every second: never idle, never done.
    const dribble = setInterval(() => socket.writable && socket.write(`X-Slow-${Date.now()}: 1\r\n`), 1000);
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    try {
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    } finally {
      clearInterval(dribble);
    }
    const heldMs = Date.now() - started;
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(heldMs).toBeGreaterThanOrEqual(9_000);
    expect(heldMs).toBeLessThan(20_000);
  }, 30_000);
});
