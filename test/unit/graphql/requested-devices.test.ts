import { parse, type GraphQLSchema } from 'graphql';
import { countRequestedEntries, tallyRequestedDevices } from '../../../src/graphql/requested-devices';
import { buildPresenceSchema } from '../../../src/graphql/schema';
import { PresenceKeyMap } from '../../../src/presence/presence-key-map';

describe('tallyRequestedDevices: distinct devices', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildPresenceSchema();
  });

  const count = (query: string, variables?: Record<string, unknown>, operationName?: string) =>
    tallyRequestedDevices(schema, parse(query), operationName, variables, 'inst-default').keys.size;

  it('counts each distinct device once across device, devices and aliases', () => {
    const query = `{
      a: device(clientId: "GID_x@@@1") { online }
      b: device(clientId: "GID_x@@@1") { online }
      c: devices(clientIds: ["GID_x@@@1", "GID_x@@@2", "GID_x@@@2", "GID_x@@@3"]) { online }
    }`;
    expect(count(query)).toBe(3);
  });

  it('counts IDs passed in variables, which a document-only cost analysis misses', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `GID_x@@@${i}`);
    expect(count('query Q($ids: [ID!]!) { devices(clientIds: $ids) { online } }', { ids })).toBe(5000);
  });

  it('follows named and inline fragments on the root type', () => {
    const query = `
      query Q { ...Pair ... on Query { c: device(clientId: "GID_x@@@3") { clientId } } }
      fragment Pair on Query { a: device(clientId: "GID_x@@@1") { clientId } b: device(clientId: "GID_x@@@2") { clientId } }`;
    expect(count(query)).toBe(3);
  });

  it('counts the same Client ID in two instances as two devices', () => {
    const query = `{ a: device(clientId: "GID_x@@@1") { online } b: device(clientId: "GID_x@@@1", instanceId: "other") { online } }`;
    expect(count(query)).toBe(2);
  });

  it('counts Device representations of a federation _entities call', () => {
    const representations = [
      { __typename: 'Device', clientId: 'GID_x@@@1' },
      { __typename: 'Device', clientId: 'GID_x@@@2' },
      { __typename: 'Device', clientId: 'GID_x@@@1' },
      { __typename: 'Other', clientId: 'GID_x@@@9' },
    ];
    const query = 'query E($r: [_Any!]!) { _entities(representations: $r) { ... on Device { online } } }';
    expect(count(query, { r: representations })).toBe(2);
  });

  it('counts only the operation that runs when a document has several', () => {
    const query = `query One { device(clientId: "GID_x@@@1") { online } }
                   query Two { devices(clientIds: ["GID_x@@@1", "GID_x@@@2"]) { online } }`;
    expect(count(query, undefined, 'One')).toBe(1);
    expect(count(query, undefined, 'Two')).toBe(2);
  });

  it('collects the operations of a batch into one set, so a device asked by several counts once', () => {
    const keys = new PresenceKeyMap<true>();
    tallyRequestedDevices(schema, parse('{ devices(clientIds: ["GID_x@@@1", "GID_x@@@2"]) { online } }'), undefined, undefined, 'inst-default', keys);
    tallyRequestedDevices(schema, parse('{ device(clientId: "GID_x@@@2") { online } }'), undefined, undefined, 'inst-default', keys);
    tallyRequestedDevices(schema, parse('{ device(clientId: "GID_x@@@3") { online } }'), undefined, undefined, 'inst-default', keys);
    expect(keys.size).toBe(3);
  });
});

describe('tallyRequestedDevices: device entries', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildPresenceSchema();
  });

  // countRequestedEntries (which builds no distinct set) must agree with the full tally.
  const entries = (query: string, variables?: Record<string, unknown>) => {
    const document = parse(query);
    const counted = countRequestedEntries(schema, document, undefined, variables);
    expect(counted).toBe(tallyRequestedDevices(schema, document, undefined, variables, undefined).entries);
    return counted;
  };

  it('counts every device the answer would hold, duplicates and aliases included', () => {
    const query = `{
      a: device(clientId: "GID_x@@@1") { online }
      b: device(clientId: "GID_x@@@1") { online }
      c: devices(clientIds: ["GID_x@@@1", "GID_x@@@1", "GID_x@@@2"]) { online }
    }`;
    expect(entries(query)).toBe(5);
  });

  it('reads list lengths from variables: 5,000 copies of one ID are 5,000 entries', () => {
    const ids = Array.from({ length: 5000 }, () => 'GID_x@@@1');
    expect(entries('query Q($ids: [ID!]!) { devices(clientIds: $ids) { online } }', { ids })).toBe(5000);
  });

  it('counts Device representations of a federation _entities call', () => {
    const representations = Array.from({ length: 3 }, () => ({ __typename: 'Device', clientId: 'GID_x@@@1' }));
    const query = 'query E($r: [_Any!]!) { _entities(representations: $r) { ... on Device { online } } }';
    expect(entries(query, { r: representations })).toBe(3);
  });
});
