import { createHash } from 'node:crypto';
import { bearer, opsKey, postJson, startApiKeyGraph } from '../../support/secured-graph';
import { BATCH_PATH_ONLY } from '../../support/test-graph';
import type { TestGraph } from '../../support/test-graph';

/**
 * Every limit refuses before anything runs, so an attack costs no upstream call: each test asserts
 * the refusal and that the local instance's emulator saw nothing. Authenticated as `ops` (every
 * device in scope), so nothing but the limit under test stands in the way.
 */
describe('cost limits', () => {
  let graph: TestGraph;
  const asOps = bearer(opsKey.key);
  const id = (i: number) => `GID_fleet-eu@@@truck-${i}`;

  beforeAll(async () => {
    // Many operations from one key, on purpose: the operation share (hardening.test.ts) is not what is tested here.
    graph = await startApiKeyGraph({ ...BATCH_PATH_ONLY, CALLER_OPERATIONS_PER_SECOND: '0' });
  });
  afterAll(async () => {
    await graph?.stop();
  });
  beforeEach(() => graph.local!.emulator.resetCalls());

  it('refuses 101 aliases of device, even all for the same ID (MAX_QUERY_ALIASES)', async () => {
    const fields = Array.from({ length: 101 }, (_, i) => `a${i}: device(clientId: "${id(1)}") { online }`);
    const response = await postJson(graph.url, { query: `{ ${fields.join(' ')} }` }, asOps);

    // A validation failure in application/json (no Accept asked for more): 200, as the GraphQL-over-HTTP spec recommends.
    expect(response.status).toBe(200);
    expect(response.body.errors).toEqual([
      { message: 'This document has 101 aliases; at most 30 are allowed (MAX_QUERY_ALIASES)', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
    ]);
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  const devicesQuery = 'query Q($ids: [ID!]!) { devices(clientIds: $ids) { online } }';
  // The shortest valid Client IDs, so that thousands of them fit in the 64 KiB body limit.
  const shortId = (i: number) => `GID_abc@@@${i}`;

  it('refuses 5,000 IDs in a variable: even the shortest Client IDs make a body over 64 KiB (413)', async () => {
    const ids = Array.from({ length: 5000 }, () => shortId(1));
    const response = await postJson(graph.url, { query: devicesQuery, variables: { ids } }, asOps);

    expect(response.status).toBe(413);
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('refuses 3,500 distinct IDs in a variable within the body limit (MAX_IDS_PER_REQUEST), which graphql-armor would let through', async () => {
    const ids = Array.from({ length: 3500 }, (_, i) => shortId(i));
    const response = await postJson(graph.url, { query: devicesQuery, variables: { ids } }, asOps);

    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      { message: expect.stringMatching(/asks for 3500 distinct Client IDs; at most 100 are allowed/), extensions: { code: 'BAD_USER_INPUT' } },
    ]);
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('refuses 4,500 copies of one ID in a variable by their cost (MAX_QUERY_COST)', async () => {
    const ids = Array.from({ length: 4500 }, () => shortId(1));
    const response = await postJson(graph.url, { query: devicesQuery, variables: { ids } }, asOps);

    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      {
        message: 'This operation would return 4500 device fields (each device entry times the fields selected on it); at most 2000 are allowed (MAX_QUERY_COST)',
        extensions: { code: 'BAD_USER_INPUT' },
      },
    ]);
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('counts a list left to its variable\'s default in the query text like one sent as the variable', async () => {
    const distinct = Array.from({ length: 150 }, (_, i) => JSON.stringify(id(i))).join(',');
    // Also named like a property every object inherits, which a check with `in` would take as given.
    for (const name of ['ids', 'toString']) {
      const byDefault = await postJson(graph.url, { query: `query Q($${name}: [ID!]! = [${distinct}]) { devices(clientIds: $${name}) { online } }` }, asOps);
      expect(byDefault.status).toBe(400);
      expect(byDefault.body.errors[0]).toMatchObject({ message: expect.stringMatching(/asks for 150 distinct Client IDs; at most 100/), extensions: { code: 'BAD_USER_INPUT' } });
    }

    // Within the 8 KiB query text limit: 400 copies of one ID, six fields each.
    const copies = Array.from({ length: 400 }, () => JSON.stringify(shortId(1))).join(',');
    const fields = 'clientId groupId deviceId online presence { online }';
    const copied = await postJson(graph.url, { query: `query Q($ids: [ID!]! = [${copies}]) { devices(clientIds: $ids) { ${fields} } }` }, asOps);
    expect(copied.status).toBe(400);
    expect(copied.body.errors[0].message).toMatch(/would return 2400 device fields.*at most 2000 are allowed \(MAX_QUERY_COST\)/);
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('refuses 30 aliases in a fragment applied to 100 devices: 3,000 fields, though within the alias and ID limits', async () => {
    const aliases = Array.from({ length: 30 }, (_, i) => `g${i}: groupId`).join(' ');
    const ids = Array.from({ length: 100 }, (_, i) => id(i));
    const query = `query Q($ids: [ID!]!) { devices(clientIds: $ids) { ...F } } fragment F on Device { ${aliases} }`;
    const response = await postJson(graph.url, { query, variables: { ids } }, asOps);

    expect(response.status).toBe(400);
    expect(response.body.errors[0].message).toMatch(/would return 3000 device fields/);
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('adds up the cost of the operations of a batch: ten each within it are refused together', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => id(i));
    const operation = { query: 'query Q($ids: [ID!]!) { devices(clientIds: $ids) { clientId groupId deviceId online presence { online } } }', variables: { ids } };
    const one = await postJson(graph.url, operation, asOps);
    expect(one.status).toBe(200);
    graph.local!.emulator.resetCalls();

    const response = await postJson(graph.url, Array.from({ length: 10 }, () => operation), asOps);
    expect(response.status).toBe(400);
    expect(response.body.errors[0]).toMatchObject({
      message: expect.stringMatching(/^This batch of 10 operations would return 3000 device fields/),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('refuses a JSON array of 10 operations that together ask for more than MAX_IDS_PER_REQUEST devices', async () => {
    const batch = Array.from({ length: 10 }, (_, op) => ({
      query: devicesQuery,
      variables: { ids: Array.from({ length: 11 }, (_, i) => id(op * 11 + i)) },
    }));
    const response = await postJson(graph.url, batch, asOps);

    expect(response.status).toBe(400);
    expect(response.body.errors[0]).toMatchObject({ message: expect.stringMatching(/asks for 110 distinct Client IDs; at most 100/), extensions: { code: 'BAD_USER_INPUT' } });
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('counts persisted queries sent by their hash alone against the batch\'s cost as they resolve: the batch never costs more than the limit and one operation', async () => {
    const query = 'query Q($ids: [ID!]!) { devices(clientIds: $ids) { clientId groupId deviceId online presence { online } } }';
    const extensions = { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') } };
    const variables = { ids: Array.from({ length: 50 }, (_, i) => id(i)) };
    expect((await postJson(graph.url, { query, variables, extensions }, asOps)).status).toBe(200);

    const response = await postJson(graph.url, Array.from({ length: 10 }, () => ({ variables, extensions })), asOps);
    // The batch's one status stands for the answers that ran too.
    expect(response.status).toBe(200);
    const answers = response.body as unknown as Array<{ data?: unknown; errors?: Array<{ message: string; extensions: { code: string } }> }>;
    const refused = answers.filter((answer) => answer.errors?.[0]?.message.match(/^The operations of this request together would return \d+ device fields/));
    // 300 fields each: six operations fit in 2,000, the other four are refused.
    expect(answers.filter((answer) => answer.data !== undefined && answer.errors === undefined)).toHaveLength(6);
    expect(refused).toHaveLength(4);
    expect(refused.every((answer) => answer.errors![0].extensions.code === 'BAD_USER_INPUT')).toBe(true);
  });

  it('does not count an operation it refused against the rest of the batch', async () => {
    const query = 'query Q($ids: [ID!]!) { devices(clientIds: $ids) { clientId groupId deviceId online presence { online } } }';
    const extensions = { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') } };
    const copies = (n: number) => ({ ids: Array.from({ length: n }, () => id(1)) });
    expect((await postJson(graph.url, { query, variables: copies(1), extensions }, asOps)).status).toBe(200);

    // 1,500 + 1,500 + 396 device fields: one of the 1,500s is refused, and the 396 still fits beside the other.
    const response = await postJson(graph.url, [copies(250), copies(250), copies(66)].map((variables) => ({ variables, extensions })), asOps);
    const answers = response.body as unknown as Array<{ data?: unknown; errors?: Array<{ message: string }> }>;
    expect(answers.map((answer) => answer.errors === undefined)).toEqual(expect.arrayContaining([true, false]));
    expect(answers.filter((answer) => answer.errors !== undefined)).toHaveLength(1);
    expect(answers[2].errors).toBeUndefined();
  });

  it('refuses a JSON array of 11 operations whatever they ask', async () => {
    const batch = Array.from({ length: 11 }, () => ({ query: `{ device(clientId: "${id(1)}") { online } }` }));
    const response = await postJson(graph.url, batch, asOps);

    expect(response.status).toBe(400);
    expect(response.body.errors[0].message).toMatch(/batches 11 operations; at most 10/);
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('answers a JSON array of 10 operations within the bound with one shared set of upstream calls', async () => {
    const batch = Array.from({ length: 10 }, (_, op) => ({ query: `{ device(clientId: "${id(op % 3)}") { online } }` }));
    const response = await postJson(graph.url, batch, asOps);

    expect(response.status).toBe(200);
    expect(response.body).toHaveLength(10);
    expect(response.body.every((answer: { data?: unknown }) => answer.data !== undefined)).toBe(true);
    expect(graph.local!.emulator.calls.flatMap((call) => call.clientIds).sort()).toEqual([id(0), id(1), id(2)]);
  });

  it('stops parsing a document of more than MAX_QUERY_TOKENS tokens', async () => {
    const response = await postJson(graph.url, { query: `{ device(clientId: "${id(1)}") { ${'a '.repeat(2100)} } }` }, asOps);

    // One-letter fields: over the token limit while under MAX_QUERY_BYTES, which would refuse it first.
    // A parse failure in application/json: 200, as the GraphQL-over-HTTP spec recommends.
    expect(response.status).toBe(200);
    expect(response.body.errors[0]).toMatchObject({
      message: expect.stringMatching(/Document contains more th\w+ 2000 tokens/),
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    });
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('refuses a body over 64 KiB with 413 and a JSON error, not an HTML page', async () => {
    const response = await postJson(graph.url, { query: `{ device(clientId: "${id(1)}") { online } }`, padding: 'x'.repeat(70 * 1024) }, asOps);

    expect(response).toEqual({ status: 413, body: { errors: [{ message: 'The request body is too large', extensions: { code: 'BAD_REQUEST' } }] } });
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('answers a body that is not JSON with 400 and no stack trace', async () => {
    const response = await postJson(graph.url, '{"query": ', asOps);

    expect(response).toEqual({ status: 400, body: { errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] } });
  });
});
