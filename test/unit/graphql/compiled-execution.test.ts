import 'reflect-metadata';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import { compileQuery } from 'graphql-jit';
import { compiledExecutionPlugin } from '../../../src/graphql/compiled-execution';
import type { GraphQLContext } from '../../../src/graphql/context';
import { formatGraphQLError } from '../../../src/graphql/errors';
import { buildPresenceSchema } from '../../../src/graphql/schema';
import { RequestPresence } from '../../../src/presence/presence-loaders';
import type { PresenceKey, PresenceLookup, PresenceResult } from '../../../src/presence/types';
import { UpstreamUnavailableError } from '../../../src/presence/errors';

// Counts compilations and runs of compiled code; every call goes to the real compiler.
const compiledRuns = { count: 0 };
jest.mock('graphql-jit', () => {
  const actual = jest.requireActual<typeof import('graphql-jit')>('graphql-jit');
  return {
    ...actual,
    compileQuery: jest.fn((...args: Parameters<typeof actual.compileQuery>) => {
      const result = actual.compileQuery(...args) as ReturnType<typeof actual.compileQuery>;
      if (!('query' in result)) return result;
      const query = result.query;
      return Object.assign(result, {
        query: (...queryArgs: Parameters<typeof query>) => {
          compiledRuns.count++;
          return query(...queryArgs);
        },
      });
    }),
  };
});

const CHECKED_AT = new Date('2026-11-27T00:00:00Z');

/** Online when the Device ID is even; a Device ID "down" fails as the upstream would. Counts the keys looked up. */
const looked = { keys: 0 };
const lookup: PresenceLookup = {
  async lookup(keys: readonly PresenceKey[]): Promise<PresenceResult[]> {
    looked.keys += keys.length;
    return keys.map(({ clientId }) => {
      const deviceId = clientId.split('@@@')[1];
      if (deviceId === 'down') return new UpstreamUnavailableError('the upstream did not answer');
      return { online: Number(deviceId) % 2 === 0, checkedAtMs: CHECKED_AT.getTime(), stale: false, origin: 'cache' } satisfies PresenceResult;
    });
  },
  async lookupExact(keys) {
    looked.keys += keys.length;
    return keys.map(() => ({ online: true, checkedAtMs: CHECKED_AT.getTime(), stale: false, origin: 'upstream' }) satisfies PresenceResult);
  },
};

const contextFor = (callerName = 'test'): GraphQLContext =>
  ({
    caller: { name: callerName, scope: [] },
    presence: new RequestPresence(lookup, { maxIdsPerRequest: 100 }),
    defaultInstanceId: 'inst-default',
  }) as unknown as GraphQLContext;

// Operations that touch every way a device is reached and every way a field can fail.
const OPERATIONS: Array<{ name: string; query: string; variables?: Record<string, unknown>; operationName?: string }> = [
  {
    name: 'aliases, fragments, duplicates and variables',
    query: `query Q($ids: [ID!]!, $exact: Boolean) {
      a: device(clientId: "GID_demo@@@1") { ...Status groupId deviceId __typename }
      b: devices(clientIds: $ids) { clientId online presence { online source checkedAt } }
      c: device(clientId: "GID_demo@@@4") { online(exact: $exact) }
    }
    fragment Status on Device { clientId instanceId online }`,
    variables: { ids: ['GID_demo@@@2', 'GID_demo@@@3', 'GID_demo@@@2'], exact: true },
  },
  { name: 'the all-cached devices query', query: 'query Devices($ids: [ID!]!) { devices(clientIds: $ids) { clientId online } }', variables: { ids: ['GID_demo@@@2', 'GID_demo@@@5'] } },
  {
    name: 'a malformed ID and an upstream failure, each at its own path',
    query: '{ devices(clientIds: ["GID_demo@@@2", "not-a-client-id", "GID_demo@@@down"]) { clientId online } }',
  },
  {
    name: 'federation _entities',
    query: 'query E($r: [_Any!]!) { _entities(representations: $r) { ... on Device { clientId online } } }',
    variables: { r: [{ __typename: 'Device', clientId: 'GID_demo@@@6' }, { __typename: 'Device', clientId: 'GID_demo@@@7' }] },
  },
  {
    name: 'federation _entities, one representation malformed',
    query: 'query E($r: [_Any!]!) { _entities(representations: $r) { ... on Device { clientId online } } }',
    variables: { r: [{ __typename: 'Device', clientId: 'GID_demo@@@6' }, { __typename: 'Device', clientId: 7 }] },
  },
  {
    name: 'the operation picked by name',
    query: 'query One { device(clientId: "GID_demo@@@1") { online } } query Two { device(clientId: "GID_demo@@@2") { online } }',
    operationName: 'Two',
  },
  { name: 'bad variables', query: 'query Q($ids: [ID!]!) { devices(clientIds: $ids) { online } }', variables: { ids: null } },
  { name: 'introspection', query: '{ __schema { queryType { name } } __type(name: "Device") { name } }' },
];

describe('compiledExecutionPlugin: graphql-jit behind Apollo Server', () => {
  let schema: GraphQLSchema;
  let compiled: ApolloServer<GraphQLContext>;
  let interpreted: ApolloServer<GraphQLContext>;
  beforeAll(async () => {
    schema = await buildPresenceSchema();
    const common = { schema, formatError: formatGraphQLError };
    compiled = new ApolloServer<GraphQLContext>({
      ...common,
      plugins: [ApolloServerPluginInlineTraceDisabled(), compiledExecutionPlugin(schema, { skip: ({ contextValue }) => contextValue.caller.name === 'router' })],
    });
    interpreted = new ApolloServer<GraphQLContext>({ ...common, plugins: [ApolloServerPluginInlineTraceDisabled()] });
    await Promise.all([compiled.start(), interpreted.start()]);
  });
  afterAll(async () => {
    await Promise.all([compiled.stop(), interpreted.stop()]);
  });

  const run = async (server: ApolloServer<GraphQLContext>, operation: (typeof OPERATIONS)[number], callerName?: string) => {
    looked.keys = 0;
    const response = await server.executeOperation(
      { query: operation.query, variables: operation.variables, operationName: operation.operationName },
      { contextValue: contextFor(callerName) },
    );
    if (response.body.kind !== 'single') throw new Error('expected a single result');
    return { status: response.http.status, result: response.body.singleResult, keysLookedUp: looked.keys };
  };

  it.each(OPERATIONS)('answers $name exactly as graphql-js does, first run and compiled: data, errors, paths, codes, lookups', async (operation) => {
    const expected = await run(interpreted, operation);
    for (let attempt = 0; attempt < 3; attempt++) expect(await run(compiled, operation)).toEqual(expected);
  });

  it.each(OPERATIONS)('writes $name over HTTP as the same text as graphql-js and Apollo\'s own serialiser, byte for byte', async (operation) => {
    const plugin = compiledExecutionPlugin(schema);
    const serialised = new ApolloServer<GraphQLContext>({ schema, formatError: formatGraphQLError, stringifyResult: plugin.stringifyResult, plugins: [ApolloServerPluginInlineTraceDisabled(), plugin] });
    await serialised.start();
    try {
      const post = async (server: ApolloServer<GraphQLContext>) => {
        const response = await server.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: 'POST', headers: new HeaderMap([['content-type', 'application/json']]), search: '', body: { query: operation.query, variables: operation.variables, operationName: operation.operationName } },
          context: async () => contextFor(),
        });
        if (response.body.kind !== 'complete') throw new Error('expected a complete body');
        return { status: response.status, body: response.body.string };
      };
      const expected = await post(interpreted);
      compiledRuns.count = 0;
      for (let attempt = 0; attempt < 3; attempt++) expect(await post(serialised)).toEqual(expected);
      // The document is compiled from its second run on: the test compared compiled answers too.
      if (!operation.query.includes('__schema') && !(JSON.parse(expected.body) as { errors?: unknown }).errors) expect(compiledRuns.count).toBeGreaterThan(0);
    } finally {
      await serialised.stop();
    }
  });

  it('answers a query from compiled code from its second run, compiled once', async () => {
    const operation = { name: 'fresh', query: '{ device(clientId: "GID_demo@@@8") { clientId online } }' };
    const compilations = jest.mocked(compileQuery);
    compilations.mockClear();
    compiledRuns.count = 0;
    await run(compiled, operation);
    expect([compilations.mock.calls.length, compiledRuns.count]).toEqual([0, 0]);
    for (let attempt = 0; attempt < 3; attempt++) expect((await run(compiled, operation)).result).toEqual({ data: { device: { clientId: 'GID_demo@@@8', online: true } } });
    expect([compilations.mock.calls.length, compiledRuns.count]).toEqual([1, 3]);
  });

  it('lets graphql-js make an answer with errors, looking nothing up twice', async () => {
    const failing = OPERATIONS[2];
    await run(compiled, failing);
    compiledRuns.count = 0;
    const answer = await run(compiled, failing);
    expect(compiledRuns.count).toBe(1);
    expect(answer.keysLookedUp).toBe(2);
    const codes = Object.fromEntries((answer.result.errors ?? []).map((error) => [error.path?.join('.'), error.extensions?.code]));
    expect(codes).toEqual({ 'devices.1.online': 'BAD_USER_INPUT', 'devices.2.online': 'UPSTREAM_UNAVAILABLE' });
  });

  it('leaves introspection and the requests it is told to skip to graphql-js', async () => {
    compiledRuns.count = 0;
    for (let attempt = 0; attempt < 3; attempt++) await run(compiled, OPERATIONS[7]);
    const operation = { name: 'traced', query: '{ device(clientId: "GID_demo@@@10") { online } }' };
    for (let attempt = 0; attempt < 3; attempt++) await run(compiled, operation, 'router');
    expect(compiledRuns.count).toBe(0);
  });

  it('compiles no more documents in a second than its budget allows; the rest run on graphql-js', async () => {
    const budgeted = new ApolloServer<GraphQLContext>({ schema, plugins: [ApolloServerPluginInlineTraceDisabled(), compiledExecutionPlugin(schema, { maxCompilationsPerSecond: 1 })] });
    await budgeted.start();
    const now = jest.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 11, 7, 5, 0, 0));
    try {
      const compilations = jest.mocked(compileQuery);
      compilations.mockClear();
      const first = { name: 'first', query: '{ device(clientId: "GID_demo@@@12") { online } }' };
      const second = { name: 'second', query: '{ device(clientId: "GID_demo@@@14") { clientId } }' };
      for (let attempt = 0; attempt < 3; attempt++) {
        expect((await run(budgeted, first)).result).toEqual({ data: { device: { online: true } } });
        expect((await run(budgeted, second)).result).toEqual({ data: { device: { clientId: 'GID_demo@@@14' } } });
      }
      expect(compilations).toHaveBeenCalledTimes(1);
      // The next second has budget again.
      now.mockReturnValue(Date.UTC(2026, 11, 7, 5, 0, 1));
      await run(budgeted, second);
      expect(compilations).toHaveBeenCalledTimes(2);
    } finally {
      now.mockRestore();
      await budgeted.stop();
    }
  });
});
