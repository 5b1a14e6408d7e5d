import { request } from 'node:http';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { linesSaying } from '../../support/captured-logs';
import { bearer, opsKey, postJson, startApiKeyGraph } from '../../support/secured-graph';
import { startTestGraph, type TestGraph } from '../../support/test-graph';

/** An HTTP request with any Host header (fetch will not send one of its own choosing). */
function withHost(url: string, host: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: { ...init.headers, host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** How a WebSocket upgrade ended: opened, or refused with an HTTP status. */
function upgrade(url: string, options: { host?: string; headers?: Record<string, string> } = {}): Promise<{ opened: WebSocket } | { status: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers: { ...options.headers, ...(options.host && { host: options.host }) } });
    socket.once('open', () => resolve({ opened: socket }));
    socket.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
    });
    socket.once('error', reject);
  });
}

const DEVICE_QUERY = JSON.stringify({ query: '{ device(clientId: "GID_demo@@@device-1") { online } }' });

/**
 * What a start exposes without being told, and what a connection may
 * hold without credentials. Each test closes one probe of the attack that got through.
 */
describe('exposure: development defaults (DNS rebinding)', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startTestGraph();
  });
  afterAll(async () => {
    await graph?.stop();
  });

  it('refuses an HTTP request naming another host with 421, before GraphQL runs, and answers the loopback names', async () => {
    const { port } = new URL(graph.url);
    const rebound = await withHost(graph.url, `evil.example:${port}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: `http://evil.example:${port}` }, body: DEVICE_QUERY });
    expect(rebound.status).toBe(421);
    expect(rebound.headers.connection).toBe('close');
    expect(JSON.parse(rebound.body)).toEqual({ errors: [{ message: 'This server does not answer for this host name (ALLOWED_HOSTS)', extensions: { code: 'BAD_REQUEST' } }] });
    expect((await withHost(graph.url.replace('/graphql', '/metrics'), `evil.example:${port}`)).status).toBe(421);
    expect(graph.local!.emulator.calls).toEqual([]);

    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, 'LOCALHOST']) {
      expect((await withHost(graph.url, host, { method: 'POST', headers: { 'content-type': 'application/json' }, body: DEVICE_QUERY })).status).toBe(200);
    }
  });

  it('refuses a WebSocket upgrade naming another host with 421, even with a matching Origin', async () => {
    const { port } = new URL(graph.url);
    expect(await upgrade(graph.url, { host: `evil.example:${port}`, headers: { origin: `http://evil.example:${port}` } })).toEqual({ status: 421 });
    const local = await upgrade(graph.url);
    expect(local).toHaveProperty('opened');
    if ('opened' in local) local.opened.close();
  });

  it('answers an OPTIONS with a JSON content type 405, naming the methods, with no error line', async () => {
    const answer = await fetch(graph.url, { method: 'OPTIONS', headers: { 'content-type': 'application/json' } });
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('GET, POST');
    expect(((await answer.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(graph.logs.map((line) => JSON.parse(line) as { level: number }).filter((line) => line.level >= 50)).toEqual([]);
    // A CORS preflight is still answered 204.
    const preflight = await fetch(graph.url, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
  });

  it('serves the operator endpoints on the GraphQL port while developing', async () => {
    expect(graph.opsUrl).toBe(new URL(graph.url).origin);
    expect((await fetch(`${graph.opsUrl}/healthz`)).status).toBe(200);
  });
});

describe('exposure: production (operator endpoints on OPS_PORT)', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startApiKeyGraph({ NODE_ENV: 'production', LOCAL_IN_PRODUCTION: 'true' });
  });
  afterAll(async () => {
    await graph?.stop();
  });

  it('serves /metrics, /readyz and /healthz on their own port only, never on the GraphQL port', async () => {
    expect(new URL(graph.opsUrl).port).not.toBe(new URL(graph.url).port);
    for (const path of ['/metrics', '/readyz', '/healthz']) {
      expect((await fetch(graph.url.replace('/graphql', path))).status).toBe(404);
      expect((await fetch(`${graph.opsUrl}${path}`)).status).toBe(200);
    }
    expect(await (await fetch(`${graph.opsUrl}/metrics`)).text()).toMatch(/presence_lookups_total/);
  });

  it('still answers GraphQL on the public port', async () => {
    expect((await postJson(graph.url, JSON.parse(DEVICE_QUERY), bearer(opsKey.key))).status).toBe(200);
  });
});

describe('exposure: connections held without credentials', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startApiKeyGraph({ MAX_UNAUTHENTICATED_SOCKETS_PER_ADDRESS: '3' });
  });
  afterAll(async () => {
    await graph?.stop();
  });

  it('closes the connection after a 401, so a slow body sent without credentials holds nothing', async () => {
    const { hostname, port } = new URL(graph.url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    const started = Date.now();
    // A body of 60,000 bytes announced, 10 sent: without `Connection: close` Node would wait for the rest.
    socket.write(`POST /graphql HTTP/1.1\r\nHost: localhost:${port}\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"query":`);
    const dribble = setInterval(() => socket.writable && socket.write(' '), 200);
    try {
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    } finally {
      clearInterval(dribble);
    }
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses a WebSocket upgrade with 429 past MAX_UNAUTHENTICATED_SOCKETS_PER_ADDRESS sockets not yet authenticated, and counts one again once it closes', async () => {
    const held: WebSocket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const opened = await upgrade(graph.url);
        if (!('opened' in opened)) throw new Error(`upgrade ${i} refused: ${JSON.stringify(opened)}`);
        held.push(opened.opened);
      }
      expect(await upgrade(graph.url)).toEqual({ status: 429 });
      expect(linesSaying(graph.logs, 'connection refused: too many unauthenticated sockets')).toHaveLength(1);

      const closed = held.pop()!;
      await new Promise<void>((resolve) => {
        closed.once('close', () => resolve());
        closed.close();
      });
      // The server sees the close a moment later; then the address has room again.
      let next: Awaited<ReturnType<typeof upgrade>> = { status: 0 };
      for (let attempt = 0; attempt < 20 && !('opened' in next); attempt++) {
        next = await upgrade(graph.url);
        if (!('opened' in next)) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(next).toHaveProperty('opened');
      if ('opened' in next) held.push(next.opened);
    } finally {
      for (const socket of held) socket.terminate();
    }
  });

  it('does not count an authenticated socket against its address', async () => {
    const sockets: WebSocket[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const opened = await upgrade(graph.url);
        if (!('opened' in opened)) throw new Error(`upgrade ${i} refused: ${JSON.stringify(opened)}`);
        const socket = opened.opened;
        sockets.push(socket);
        const acked = new Promise<void>((resolve) => socket.once('message', () => resolve()));
        socket.send(JSON.stringify({ type: 'connection_init', payload: bearer(opsKey.key) }));
        await acked;
      }
      expect(sockets).toHaveLength(4);
    } finally {
      for (const socket of sockets) socket.terminate();
    }
  });
});
