import 'reflect-metadata';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { execute, parse, type GraphQLSchema } from 'graphql';
import { compileQuery } from 'graphql-jit';
import { compiledExecution } from '../../../src/graphql/compiled-execution';
import type { GraphQLContext } from '../../../src/graphql/context';
import { formatGraphQLError } from '../../../src/graphql/errors';
import { buildPresenceSchema } from '../../../src/graphql/schema';
import { RequestPresence } from '../../../src/presence/presence-loaders';
import type { PresenceKey, PresenceLookup, PresenceResult } from '../../../src/presence/types';
import { UpstreamUnavailableError } from '../../../src/presence/errors';

// Counts compilations; every call goes to the real compiler.
jest.mock('graphql-jit', () => {
  const actual = jest.requireActual<typeof import('graphql-jit')>('graphql-jit');
  return { ...actual, compileQuery: jest.fn(actual.compileQuery) };
});

const CHECKED_AT = new Date('2026-11-27T00:00:00Z');

/** Online when the Device ID is even; a Device ID "down" fails as the upstream would. */
const lookup: PresenceLookup = {
  async lookup(keys: readonly PresenceKey[]): Promise<PresenceResult[]> {
    return keys.map(({ clientId }) => {
      const deviceId = clientId.split('@@@')[1];
      if (deviceId === 'down') return new UpstreamUnavailableError('the upstream did not answer');
      return { online: Number(deviceId) % 2 === 0, checkedAtMs: CHECKED_AT.getTime(), stale: false, origin: 'cache' } satisfies PresenceResult;
    });
  },
  async lookupExact(keys) {
    return keys.map(() => ({ online: true, checkedAtMs: CHECKED_AT.getTime(), stale: false, origin: 'upstream' }) satisfies PresenceResult);
  },
};

const contextFor = (): GraphQLContext =>
  ({
    caller: { name: 'test', scope: [] },
    presence: new RequestPresence(lookup, { maxIdsPerRequest: 100 }),
    defaultInstanceId: 'inst-default',
  }) as unknown as GraphQLContext;

// Operations that touch every way a device is reached and every way a field can fail.
const OPERATIONS: Array<{ name: string; query: string; variables?: Record<string, unknown>; operationName?: string }> = [
  {
    name: 'aliases, fragments, duplicates and variables',
    query: `query Q($ids: [ID!]!, $exact: Boolean) {
      a: device(clientId: "GID_demo@@@1") { ...Status groupId deviceId }
      b: devices(clientIds: $ids) { clientId online presence { online source } }
      c: device(clientId: "GID_demo@@@4") { online(exact: $exact) }
    }
    fragment Status on Device { clientId instanceId online }`,
    variables: { ids: ['GID_demo@@@2', 'GID_demo@@@3', 'GID_demo@@@2'], exact: true },
  },
  {
    name: 'a malformed ID and an upstream failure, each at its own path',
    query: '{ devices(clientIds: ["GID_demo@@@2", "not-a-client-id", "GID_demo@@@down"]) { clientId online } }',
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
];

describe('compiledExecution: graphql-jit behind Apollo Server', () => {
  let schema: GraphQLSchema;
  let compiled: ApolloServer<GraphQLContext>;
  let interpreted: ApolloServer<GraphQLContext>;
  beforeAll(async () => {
    schema = await buildPresenceSchema();
    // Inline tracing is for a gateway that asks for it; off, it would only log that it is on.
    const common = { formatError: formatGraphQLError, plugins: [ApolloServerPluginInlineTraceDisabled()] };
    compiled = new ApolloServer<GraphQLContext>({ gateway: compiledExecution(schema), ...common });
    interpreted = new ApolloServer<GraphQLContext>({ schema, ...common });
    await Promise.all([compiled.start(), interpreted.start()]);
  });
  afterAll(async () => {
    await Promise.all([compiled.stop(), interpreted.stop()]);
  });

  const run = async (server: ApolloServer<GraphQLContext>, operation: (typeof OPERATIONS)[number]) => {
    const response = await server.executeOperation(
      { query: operation.query, variables: operation.variables, operationName: operation.operationName },
      { contextValue: contextFor() },
    );
    if (response.body.kind !== 'single') throw new Error('expected a single result');
    return { status: response.http.status, result: response.body.singleResult };
  };

  it.each(OPERATIONS)('answers $name exactly as graphql-js does: data, errors, paths, codes', async (operation) => {
    const [fromCompiled, fromInterpreted] = [await run(compiled, operation), await run(interpreted, operation)];
    expect(fromCompiled).toEqual(fromInterpreted);
  });

  it('keeps a resolver error typed: its code reaches extensions, not a masked internal error', async () => {
    const { result } = await run(compiled, OPERATIONS[1]);
    const codes = Object.fromEntries((result.errors ?? []).map((error) => [error.path?.join('.'), error.extensions?.code]));
    expect(codes).toEqual({ 'devices.1.online': 'BAD_USER_INPUT', 'devices.2.online': 'UPSTREAM_UNAVAILABLE' });
  });

  it('refuses bad variables with 400 and BAD_USER_INPUT, as graphql-js does, without running a resolver', async () => {
    const operation = { name: 'bad variables', query: 'query Q($ids: [ID!]!) { devices(clientIds: $ids) { online } }', variables: { ids: null } };
    const [fromCompiled, fromInterpreted] = [await run(compiled, operation), await run(interpreted, operation)];
    expect(fromCompiled.status).toBe(400);
    expect(fromCompiled.result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(fromCompiled).toEqual(fromInterpreted);
  });

  it('compiles each operation once and reuses it for the same parsed document', async () => {
    const compilations = jest.mocked(compileQuery);
    compilations.mockClear();
    {
      const gateway = compiledExecution(schema);
      const { executor } = await gateway.load({ apollo: { keyHash: undefined, graphRef: undefined } } as never);
      const document = parse('{ device(clientId: "GID_demo@@@2") { online } }');
      const requestContext = { document, request: { variables: {} }, context: contextFor() } as never;
      const first = await executor!(requestContext);
      const second = await executor!({ ...(requestContext as object), context: contextFor() } as never);
      expect(first).toEqual({ data: { device: { online: true } } });
      expect(second).toEqual(first);
      expect(compilations).toHaveBeenCalledTimes(1);
      // And graphql-js agrees on the answer.
      expect(await execute({ schema, document, contextValue: contextFor() })).toEqual(first);
    }
  });
});
