import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { buildGraphiQL } from '../support/graphiql-bundle';
import { deleteKeys, describeWithRedis, REDIS_URL, uniqueKeyPrefix } from '../support/redis';
import { startTestGraph, type TestGraph } from '../support/test-graph';

const APP = 'https://dashboard.example.com';
const QUERY = '{ device(clientId: "GID_web@@@one") { clientId online } }';

/** A GET the way Apollo Client sends one (useGETForQueries): with a header that forces a preflight, as CSRF prevention wants where calls are billed. */
function get(url: string, params: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) search.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  return fetch(`${url}?${search}`, { headers: { 'apollo-require-preflight': 'true', ...headers } });
}

const persisted = (query: string) => ({ persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') } });

describe('web clients', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    await buildGraphiQL();
    graph = await startTestGraph({ CORS_ORIGINS: APP, PRESENCE_CACHE_TTL_MS: '2000' });
  });
  afterAll(async () => {
    await graph?.stop();
  });

  describe('CORS allow-list (CORS_ORIGINS)', () => {
    const preflight = (origin: string) =>
      fetch(graph.url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
      });

    it('lets a listed origin send JSON, credentials and the CSRF preflight header', async () => {
      const response = await preflight(APP);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(APP);
      expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST');
      expect(response.headers.get('access-control-allow-headers')).toMatch(/Content-Type.*Authorization.*X-API-Key.*Apollo-Require-Preflight/);
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    });

    it('gives any other origin no permission, and runs nothing for its preflight', async () => {
      const response = await preflight('https://evil.example');
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('marks answers as varying by Origin and names the listed origin on them', async () => {
      const response = await fetch(graph.url, {
        method: 'POST',
        headers: { origin: APP, 'content-type': 'application/json' },
        body: JSON.stringify({ query: QUERY }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe(APP);
      expect(response.headers.get('vary')).toMatch(/Origin/);
    });
  });

  describe('GET queries and caching', () => {
    it('lets a browser keep a successful GET query, privately, for what is left of the cache TTL for its oldest status', async () => {
      const response = await get(graph.url, { query: QUERY });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { device: { clientId: 'GID_web@@@one', online: false } } });
      // Asked upstream just now, a few milliseconds before the answer: 1.99… s of the 2 s TTL left.
      expect(response.headers.get('cache-control')).toBe('private, max-age=1');
      // No status in the answer: nothing ages, the whole TTL.
      const noStatus = await get(graph.url, { query: '{ device(clientId: "GID_web@@@one") { clientId } }' });
      expect(noStatus.headers.get('cache-control')).toBe('private, max-age=2');
      expect(response.headers.get('vary')).toMatch(/Authorization, X-API-Key/);
    });

    it('stores nothing of an exact answer, a failed query or a POST', async () => {
      const exact = await get(graph.url, { query: '{ device(clientId: "GID_web@@@one") { online(exact: true) } }' });
      expect(exact.headers.get('cache-control')).toBe('no-store');
      const failed = await get(graph.url, { query: '{ device(clientId: "not-an-id") { online } }' });
      expect(failed.headers.get('cache-control')).toBe('no-store');
      const posted = await fetch(graph.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) });
      expect(posted.headers.get('cache-control')).toBe('no-store');
    });

    it('answers a GET with no preflight-forcing header on the anonymous local instance, which bills nobody (urql\'s default GET)', async () => {
      // Which GETs need the header where calls are billed: test/e2e/graphql-http-audits.test.ts, "queries over GET".
      const search = new URLSearchParams({ query: QUERY });
      const response = await fetch(`${graph.url}?${search}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toMatch(/^private, max-age=/);
    });
  });

  describe('Automatic Persisted Queries', () => {
    it('asks for the query once, then runs it from its hash alone, by GET', async () => {
      const query = '{ device(clientId: "GID_web@@@apq") { clientId } }';
      const unknown = (await (await get(graph.url, { extensions: persisted(query) })).json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(unknown.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');

      const registered = await get(graph.url, { query, extensions: persisted(query) });
      expect(await registered.json()).toEqual({ data: { device: { clientId: 'GID_web@@@apq' } } });

      const byHash = await get(graph.url, { extensions: persisted(query) });
      expect(await byHash.json()).toEqual({ data: { device: { clientId: 'GID_web@@@apq' } } });
    });
  });

  describe('query text limit (MAX_QUERY_BYTES, 8192 by default)', () => {
    // A comment pads the text: only its length differs from a query that runs.
    const padded = (clientId: string, bytes: number) => {
      const query = `{ device(clientId: "${clientId}") { clientId } } #`;
      return query + 'x'.repeat(bytes - query.length);
    };
    const post = async (body: unknown) => {
      const response = await fetch(graph.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as { errors?: Array<{ message: string; extensions: { code: string } }> } };
    };
    const tooLong = { status: 413, body: { errors: [{ message: 'The query text is longer than 8192 bytes (MAX_QUERY_BYTES)', extensions: { code: 'BAD_REQUEST' } }] } };

    it('runs a query text of exactly the limit', async () => {
      expect(await post({ query: padded('GID_web@@@fits', 8192) })).toEqual({ status: 200, body: { data: { device: { clientId: 'GID_web@@@fits' } } } });
    });

    it('refuses a longer query text with 413, alone or in a batch', async () => {
      expect(await post({ query: padded('GID_web@@@long', 8193) })).toEqual(tooLong);
      expect(await post([{ query: QUERY }, { query: padded('GID_web@@@long', 8193) }])).toEqual(tooLong);
    });

    it('refuses to register a longer query as a persisted query, by GET or POST, so its hash stays unknown', async () => {
      const query = padded('GID_web@@@apq-long', 8193);
      const registered = await get(graph.url, { query, extensions: persisted(query) });
      expect({ status: registered.status, body: await registered.json() }).toEqual(tooLong);
      expect(await post({ query, extensions: persisted(query) })).toEqual(tooLong);

      const byHash = (await (await get(graph.url, { extensions: persisted(query) })).json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(byHash.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    });
  });

  describe('GraphiQL', () => {
    const page = (url: string) => fetch(url, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });

    it('serves its own GraphiQL to a browser at /graphql, under a policy that allows nothing from other hosts', async () => {
      const response = await page(graph.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const policy = response.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("default-src 'self'");
      expect(policy).toContain("script-src 'self'");
      expect(policy).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:\d+ wss:\/\/127\.0\.0\.1:\d+/);
      const html = await response.text();
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
      const assets = [...html.matchAll(/(?:src|href)="(graphiql\/[^"]+)"/g)].map((match) => match[1]);
      expect(assets).toEqual(['graphiql/graphiql.css', 'graphiql/graphiql.js']);
      for (const asset of assets) {
        const file = await fetch(new URL(asset, graph.url));
        expect(file.status).toBe(200);
        expect(file.headers.get('x-content-type-options')).toBe('nosniff');
      }
    });

    it('sends a browser at /graphql/ to /graphql, by a relative URL, where the page\'s relative asset URLs resolve', async () => {
      const response = await fetch(`${graph.url}/?x=1`, { headers: { accept: 'text/html' }, redirect: 'manual' });
      expect(response.status).toBe(308);
      expect(response.headers.get('location')).toBe('../graphql?x=1');
      expect(new URL(response.headers.get('location')!, `${graph.url}/`).href).toBe(`${graph.url}?x=1`);
      const followed = await page(`${graph.url}/`);
      expect(followed.url).toBe(graph.url);
      expect(followed.headers.get('content-type')).toMatch(/^text\/html/);
    });

    it('still answers GraphQL on a GET that does not ask for HTML', async () => {
      const response = await get(graph.url, { query: QUERY }, { accept: 'application/json' });
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    });

    it('serves no page when GRAPHIQL_ENABLED=false', async () => {
      const off = await startTestGraph({ GRAPHIQL_ENABLED: 'false' });
      try {
        const response = await page(off.url);
        expect(response.status).toBe(404);
        expect(response.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
        expect(await response.text()).toMatch(/^GraphiQL is off on this server \(GRAPHIQL_ENABLED=false/);
        // A browser GET that carries a query is still GraphQL.
        expect((await get(off.url, { query: QUERY }, { accept: 'text/html' })).headers.get('content-type')).toMatch(/^application\/json/);
        expect((await fetch(new URL('/graphiql/graphiql.js', off.url))).status).toBe(404);
      } finally {
        await off.stop();
      }
    });
  });
});

describeWithRedis('Automatic Persisted Queries shared through Redis', ['redis'], () => {
  const prefix = uniqueKeyPrefix('apq');
  let first: TestGraph;
  let second: TestGraph;
  beforeAll(async () => {
    first = await startTestGraph({ REDIS_URL, REDIS_KEY_PREFIX: prefix });
    second = await startTestGraph({ REDIS_URL, REDIS_KEY_PREFIX: prefix });
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    const redis = new Redis(REDIS_URL);
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('runs from its hash alone on a replica that never saw the query', async () => {
    const query = '{ device(clientId: "GID_web@@@shared") { clientId } }';
    await get(first.url, { query, extensions: persisted(query) });
    const byHash = await get(second.url, { extensions: persisted(query) });
    expect(await byHash.json()).toEqual({ data: { device: { clientId: 'GID_web@@@shared' } } });
  });
});
