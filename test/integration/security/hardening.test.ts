import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { graphqlWsClient, subscribe, type TestSubscription } from '../../support/graphql-ws-client';
import { bearer, dashboardKey, opsKey, postJson, startApiKeyGraph } from '../../support/secured-graph';
import { BATCH_PATH_ONLY, type TestGraph } from '../../support/test-graph';

/**
 * The hardening issue's findings 1, 2, 3, 10 and 11, each probe as the attacker sent it: refused or
 * bounded, with no upstream call for refused work and a bounded number of log lines.
 */
const WATCH = 'subscription Watch($ids: [ID!]!) { presenceChanged(clientIds: $ids) { online } }';
// Finding 1: legal, 7.6 KB, under 2,000 tokens, cost 0; about 60 ms of overlapping-fields validation.
const STALL = `{ devices(clientIds: []) { ${'presence{online stale} '.repeat(330)} } }`;
const id = (i: number) => `GID_fleet-eu@@@truck-${i}`;
const ids = (count: number, from = 0) => Array.from({ length: count }, (_, i) => id(from + i));
type LogEntry = { level: number; msg: string } & Record<string, unknown>;
const entries = (graph: TestGraph): LogEntry[] => graph.logs.map((line) => JSON.parse(line) as LogEntry);

/** A subscription refused when it starts: one result with errors and no data, then complete. */
async function refusalOf(subscription: TestSubscription<unknown>) {
  const result = await subscription.next('the refusal');
  expect(result.data ?? null).toBeNull();
  expect(await subscription.ended()).toEqual({ completed: true });
  return result.errors;
}

/** Upgrades to the service's WebSocket with these headers; resolves with the HTTP status of a refusal (101 when accepted). */
function upgrade(graph: TestGraph, headers: Record<string, string>): Promise<number | undefined> {
  const socket = new WebSocket(graph.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
  return new Promise((resolve) => {
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode);
      socket.terminate();
    });
    socket.once('open', () => {
      resolve(101);
      socket.terminate();
    });
    socket.once('error', () => resolve(undefined));
  });
}

describe('hardening: CPU, subscriptions, logs, traces', () => {
  let graph: TestGraph;
  const asOps = bearer(opsKey.key);

  beforeAll(async () => {
    graph = await startApiKeyGraph({
      ...BATCH_PATH_ONLY,
      CALLER_OPERATIONS_PER_SECOND: '20',
      CALLER_LOOKUPS_PER_SECOND: '40',
      MAX_WATCHED_DEVICES_PER_CALLER: '30',
      MAX_CONNECTIONS_PER_CALLER: '1',
      INLINE_TRACE_CALLERS: 'ops',
    });
  });
  afterAll(async () => {
    await graph?.stop();
  });
  beforeEach(() => graph.local!.emulator.resetCalls());
  // Each test starts with full shares: the buckets refill in a second.
  beforeEach(() => new Promise((resolve) => setTimeout(resolve, 1100)));

  describe('finding 1: CPU from a legal document', () => {
    it('refuses the 330-fold repeated selection over HTTP before validating it, and each copy differing by a comment too (MAX_QUERY_FIELDS)', async () => {
      for (const query of [STALL, `# copy 1\n${STALL}`, `# copy 2\n${STALL}`]) {
        const response = await postJson(graph.url, { query }, asOps);
        expect(response.status).toBe(400);
        expect(response.body.errors).toEqual([
          {
            message: 'This document selects 991 fields and fragment spreads; at most 250 are allowed (MAX_QUERY_FIELDS)',
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
          },
        ]);
      }
      const get = await fetch(`${graph.url}?query=${encodeURIComponent(STALL)}`, { headers: { ...asOps, 'apollo-require-preflight': 'true' } });
      expect(get.status).toBe(400);
      expect(graph.local!.emulator.calls).toEqual([]);
    });

    it('refuses it over WebSocket too, with the same code', async () => {
      const client = graphqlWsClient(graph.url, asOps);
      try {
        const end = await subscribe(client, STALL).ended();
        expect(end).toEqual({
          errors: [expect.objectContaining({ message: expect.stringContaining('(MAX_QUERY_FIELDS)'), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })],
        });
      } finally {
        await client.dispose();
      }
    });

    it('gives each caller a share of operations per second: over it, 429 RATE_LIMITED with retryAfterMs, nothing parsed or looked up, other callers unaffected', async () => {
      const query = `{ device(clientId: "${id(1)}") { online } }`;
      const batch = Array.from({ length: 10 }, () => ({ query }));
      expect((await postJson(graph.url, batch, asOps)).status).toBe(200);
      expect((await postJson(graph.url, batch, asOps)).status).toBe(200);
      graph.local!.emulator.resetCalls();
      // Twenty spent; a batch of ten more within the second is refused whole.
      const refused = await postJson(graph.url, batch, asOps);
      expect(refused.status).toBe(429);
      expect(refused.body.errors).toEqual([
        { message: expect.stringContaining('(20, CALLER_OPERATIONS_PER_SECOND)'), extensions: { code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) } },
      ]);
      expect(refused.body.errors[0].extensions.retryAfterMs).toBeGreaterThan(0);
      expect(graph.local!.emulator.calls).toEqual([]);
      // Another caller has its own share.
      expect((await postJson(graph.url, { query: `{ device(clientId: "${id(1)}") { clientId } }` }, bearer(dashboardKey.key))).status).toBe(200);
    });

    it('counts each WebSocket subscribe against the same share', async () => {
      const client = graphqlWsClient(graph.url, asOps);
      try {
        const query = `{ device(clientId: "${id(1)}") { clientId } }`;
        const ends = await Promise.all(Array.from({ length: 21 }, () => subscribe(client, query).ended()));
        const limited = ends.filter((end) => 'errors' in end && end.errors[0].extensions?.code === 'RATE_LIMITED');
        expect(limited).toHaveLength(1);
        expect(limited[0]).toEqual({ errors: [expect.objectContaining({ extensions: { code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) } })] });
      } finally {
        await client.dispose();
      }
    });
  });

  describe('finding 2: subscriptions', () => {
    it('caps the distinct devices one caller watches over all its subscriptions (MAX_WATCHED_DEVICES_PER_CALLER), freeing them when one ends', async () => {
      const client = graphqlWsClient(graph.url, asOps);
      try {
        const first = subscribe<{ presenceChanged: { online: boolean } }, { ids: string[] }>(client, WATCH, { ids: ids(20) });
        await first.next('the first status');
        const second = subscribe(client, WATCH, { ids: ids(15, 10) }); // 5 new of 15: 25 distinct
        await second.next('the first status');
        expect(await refusalOf(subscribe(client, WATCH, { ids: ids(10, 30) }))).toEqual([
          expect.objectContaining({ message: expect.stringContaining('(MAX_WATCHED_DEVICES_PER_CALLER)'), extensions: { code: 'BAD_USER_INPUT' } }),
        ]);
        first.unsubscribe();
        // 20 devices freed (10 of them still watched by the second): 15 + 10 = 25.
        await new Promise((resolve) => setTimeout(resolve, 100));
        const admitted = subscribe(client, WATCH, { ids: ids(10, 30) });
        await admitted.next('the first status');
        admitted.unsubscribe();
        second.unsubscribe();
      } finally {
        await client.dispose();
      }
    });

    it('charges each newly watched device one lookup of the caller\'s share (CALLER_LOOKUPS_PER_SECOND), refusing with RATE_LIMITED and watching nothing', async () => {
      const client = graphqlWsClient(graph.url, asOps);
      try {
        const first = subscribe(client, WATCH, { ids: ids(25, 100) });
        await first.next('the first status');
        first.unsubscribe();
        await new Promise((resolve) => setTimeout(resolve, 100));
        // 25 of 40 lookups spent a moment ago: 25 more are over the share, although under the watch cap.
        expect(await refusalOf(subscribe(client, WATCH, { ids: ids(25, 200) }))).toEqual([
          expect.objectContaining({ message: expect.stringContaining('CALLER_LOOKUPS_PER_SECOND'), extensions: { code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) } }),
        ]);
      } finally {
        await client.dispose();
      }
    });
  });

  describe('finding 3: log floods', () => {
    it('answers APQ mistakes 400 with a code naming each, with no error line; PERSISTED_QUERY_NOT_FOUND as Apollo answers it', async () => {
      const query = `{ device(clientId: "${id(1)}") { clientId } }`;
      const sha256Hash = createHash('sha256').update(query).digest('hex');
      const before = entries(graph).length;
      const version = await postJson(graph.url, { query, extensions: { persistedQuery: { version: 2, sha256Hash } } }, asOps);
      expect(version.status).toBe(400);
      expect(version.body.errors[0].extensions).toEqual({ code: 'PERSISTED_QUERY_VERSION_UNSUPPORTED' });
      const batch = Array.from({ length: 10 }, () => ({ query, extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } }));
      const mismatch = await postJson(graph.url, batch, asOps);
      expect(mismatch.status).toBe(400);
      expect(mismatch.body.errors[0].extensions).toEqual({ code: 'PERSISTED_QUERY_HASH_MISMATCH' });
      const extensions = encodeURIComponent(JSON.stringify({ persistedQuery: { version: 3, sha256Hash } }));
      const get = await fetch(`${graph.url}?query=${encodeURIComponent(query)}&extensions=${extensions}`, { headers: { ...asOps, 'apollo-require-preflight': 'true' } });
      expect(get.status).toBe(400);
      const notFound = await postJson(graph.url, { extensions: { persistedQuery: { version: 1, sha256Hash: '1'.repeat(64) } } }, asOps);
      expect(notFound.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(entries(graph).slice(before).filter((entry) => entry.level >= 50)).toEqual([]);
    });

    it('writes a bounded number of short lines for 200 upgrades refused for their 15 KB Origin', async () => {
      const before = graph.logs.length;
      const origin = `https://${'a'.repeat(15 * 1024)}.example`; // about as long as Node lets a header be (16 KB for all)
      const statuses = await Promise.all(Array.from({ length: 200 }, () => upgrade(graph, { origin })));
      expect(new Set(statuses)).toEqual(new Set([403]));
      const written = graph.logs.slice(before);
      expect(written.length).toBeLessThanOrEqual(2);
      for (const line of written) expect(line.length).toBeLessThan(1024);
    });

    it('writes a bounded number of lines for refusals at MAX_CONNECTIONS_PER_CALLER', async () => {
      const holder = graphqlWsClient(graph.url, asOps);
      try {
        const held = subscribe(holder, WATCH, { ids: ids(1) });
        await held.next('the first status');
        const before = graph.logs.length;
        const attempts = Array.from({ length: 30 }, () => graphqlWsClient(graph.url, asOps));
        const ends = await Promise.all(attempts.map((client) => subscribe(client, WATCH, { ids: ids(1) }).ended()));
        expect(ends.every((end) => 'closeCode' in end && end.closeCode === 4429)).toBe(true);
        await Promise.all(attempts.map((client) => client.dispose()));
        expect(graph.logs.slice(before).filter((line) => line.includes('MAX_CONNECTIONS_PER_CALLER')).length).toBeLessThanOrEqual(2);
        held.unsubscribe();
      } finally {
        await holder.dispose();
      }
    });
  });

  describe('finding 10: inline traces', () => {
    const traced = (headers: Record<string, string>) =>
      postJson(graph.url, { query: `{ device(clientId: "${id(1)}") { clientId } }` }, { ...headers, 'apollo-federation-include-trace': 'ftv1' });

    it('gives inline traces to a caller INLINE_TRACE_CALLERS names, and to nobody else who asks', async () => {
      expect((await traced(asOps)).body.extensions?.ftv1).toEqual(expect.any(String));
      expect((await traced(bearer(dashboardKey.key))).body.extensions?.ftv1).toBeUndefined();
    });
  });

  describe('finding 11: an empty instanceId', () => {
    it('says the instance ID is empty, not that the service has no default instance', async () => {
      const response = await postJson(graph.url, { query: `{ device(clientId: "${id(1)}", instanceId: "") { online } }` }, asOps);
      expect(response.body.errors[0]).toMatchObject({ message: expect.stringContaining('instanceId is empty'), extensions: { code: 'BAD_USER_INPUT' } });
      expect(response.body.errors[0].message).not.toContain('no default instance');
      expect(graph.local!.emulator.calls).toEqual([]);
    });
  });
});
