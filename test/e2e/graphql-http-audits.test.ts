import { serverAudits, type AuditResult } from 'graphql-http';
import { startTestGraph, type TestGraph } from '../support/test-graph';

/**
 * The GraphQL-over-HTTP spec's audits (graphql-http's `serverAudits`) against the live service: one
 * test per audit. Every MUST passes. SHOULD and MAY audits the service deliberately does not meet are
 * listed below with the README's reasons ("GraphQL over HTTP"); the last test fails when that list
 * changes, either way, so a change of behaviour is noticed and the README kept true.
 */
const EXPECTED_SHORTFALLS = [
  // Apollo Server answers request errors (unparsable document, invalid document, variables that do
  // not coerce) with 400, whatever the Accept header; the spec recommends 200 for application/json.
  'warn 572B SHOULD use 200 status code on document parsing failure when accepting application/json',
  'warn FDE2 SHOULD use 200 status code on document validation failure when accepting application/json',
  'warn 7B9B SHOULD use a status code of 200 on variable coercion failure when accepting application/json',
  // CSRF prevention: a GET must carry a header that forces a CORS preflight (Apollo-Require-Preflight),
  // and the audits send plain GETs.
  'notice 5A70 MAY accept application/x-www-form-urlencoded formatted GET requests',
  'notice D6D5 MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/graphql-response+json',
  'notice 6A70 MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/json',
];

describe('GraphQL over HTTP conformance (graphql-http server audits)', () => {
  let graph: TestGraph;
  const shortfalls: string[] = [];

  beforeAll(async () => {
    // The audits are one caller sending about sixty requests in a burst: the per-caller operation
    // share (CALLER_OPERATIONS_PER_SECOND, hardening.test.ts) would answer some of them 429.
    graph = await startTestGraph({ CALLER_OPERATIONS_PER_SECOND: '0' });
  });
  afterAll(async () => {
    await graph?.stop();
  });

  // The URL is asked for when each audit runs, after beforeAll has started the service.
  for (const audit of serverAudits({ url: () => graph.url, fetchFn: fetch })) {
    it(audit.name, async () => {
      const result: AuditResult = await audit.fn();
      if (result.status === 'error') throw new Error(`${result.id} ${result.name}: ${result.reason}`);
      if (result.status !== 'ok') shortfalls.push(`${result.status} ${result.id} ${result.name}`);
    });
  }

  it('falls short of exactly the SHOULD and MAY audits the README explains', () => {
    expect(shortfalls.sort()).toEqual([...EXPECTED_SHORTFALLS].sort());
  });
});

describe('queries over GET', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startTestGraph();
  });
  afterAll(async () => {
    await graph?.stop();
  });

  const getUrl = () => `${graph.url}?query=${encodeURIComponent('{ device(clientId: "GID_get@@@one") { clientId online } }')}`;

  it('answers a GET query that carries the Apollo-Require-Preflight header', async () => {
    const response = await fetch(getUrl(), { headers: { 'apollo-require-preflight': 'true' } });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { device: { clientId: 'GID_get@@@one', online: false } } });
  });

  it('refuses a GET query without a preflight-forcing header before it costs an upstream call (CSRF prevention)', async () => {
    graph.local!.emulator.resetCalls();
    const response = await fetch(getUrl());

    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/CSRF/);
    expect(graph.local!.emulator.calls).toHaveLength(0);
  });
});
