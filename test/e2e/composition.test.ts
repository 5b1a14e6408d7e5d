import { composeServices, type CompositionResult } from '@apollo/composition';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, type GraphQLObjectType } from 'graphql';
import { CATALOG_TYPE_DEFS } from '../fixtures/catalog-subgraph';

/**
 * What `rover supergraph compose` does with the committed subgraph SDL (schema/schema.graphql): the
 * Presence Graph composes with another subgraph that owns the same Device entity, and the router
 * learns to ask this service, and only it, for `Device.online`.
 */
describe('supergraph composition of schema/schema.graphql', () => {
  let result: CompositionResult;

  beforeAll(() => {
    const presenceSdl = readFileSync(join(__dirname, '..', '..', 'schema', 'schema.graphql'), 'utf8');
    result = composeServices([
      { name: 'presence', url: 'http://presence.invalid/graphql', typeDefs: parse(presenceSdl) },
      { name: 'catalog', url: 'http://catalog.invalid/graphql', typeDefs: CATALOG_TYPE_DEFS },
    ]);
  });

  it('composes with a catalog subgraph that also keys Device by clientId, without errors', () => {
    expect(result.errors?.map((error) => error.message)).toBeUndefined();
    expect(result.supergraphSdl).toEqual(expect.any(String));
  });

  it('gives the supergraph one Device with the catalog fields and a nullable online from this service', () => {
    const api = result.schema!.toAPISchema().toGraphQLJSSchema();
    const device = api.getType('Device') as GraphQLObjectType;
    const fields = device.getFields();

    expect(Object.keys(fields)).toEqual(expect.arrayContaining(['clientId', 'name', 'online']));
    expect(String(fields.online.type)).toBe('Boolean');
    expect(fields.online.args.map((arg) => `${arg.name}: ${String(arg.type)} = ${String(arg.defaultValue)}`)).toEqual(['exact: Boolean = false']);
    expect(Object.keys(api.getQueryType()!.getFields())).toEqual(expect.arrayContaining(['device', 'devices', 'fleet']));
  });

  it('routes Device.online to the presence subgraph, keyed by clientId in both subgraphs', () => {
    expect(result.supergraphSdl).toMatch(/@join__type\(graph: PRESENCE, key: "clientId"\)/);
    expect(result.supergraphSdl).toMatch(/@join__type\(graph: CATALOG, key: "clientId"\)/);
    // The argument is described (issue 17, item 4), so it prints on lines of its own.
    expect(result.supergraphSdl).toMatch(/online\(\s*("""[^]*?"""\s*)?exact: Boolean = false\s*\): Boolean @join__field\(graph: PRESENCE\)/);
  });

  it('keys Device in the presence subgraph by instance and Client ID too, and adds its global id and Relay\'s node', () => {
    const api = result.schema!.toAPISchema().toGraphQLJSSchema();
    expect(result.supergraphSdl).toMatch(/@join__type\(graph: PRESENCE, key: "instanceId clientId"\)/);
    const device = api.getType('Device') as GraphQLObjectType;
    expect(String(device.getFields().id.type)).toBe('ID!');
    expect(device.getInterfaces().map((type) => type.name)).toEqual(['Node']);
    expect(Object.keys(api.getQueryType()!.getFields())).toEqual(expect.arrayContaining(['node', 'nodes']));
  });
});
