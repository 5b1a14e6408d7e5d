import { parse, type GraphQLSchema } from 'graphql';
import { measureRequestedDevices, tallyRequestedDevices } from '../../../src/graphql/requested-devices';
import { deviceGlobalId } from '../../../src/graphql/device-id';
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

  it('counts a single value given for a list variable as the one-item list execution makes of it', () => {
    const query = 'query Q($ids: [ID!]!, $global: [ID!]!) { a: devices(clientIds: $ids) { online } b: nodes(ids: $global) { id ... on Device { online } } }';
    expect(count(query, { ids: 'GID_x@@@1', global: deviceGlobalId({ instanceId: 'inst-other', clientId: 'GID_xyz@@@2' }) })).toBe(2);
  });

  it('follows named and inline fragments on the root type', () => {
    const query = `
      query Q { ...Pair ... on Query { c: device(clientId: "GID_x@@@3") { clientId } } }
      fragment Pair on Query { a: device(clientId: "GID_x@@@1") { clientId } b: device(clientId: "GID_x@@@2") { clientId } }`;
    expect(count(query)).toBe(3);
  });

  it('reads arguments given as variables as execution does: set, null, left out, or beside literals', () => {
    const query = 'query Q($ids: [ID!]!, $instance: String) { a: devices(clientIds: $ids, instanceId: $instance) { online } b: devices(clientIds: $ids, instanceId: "other") { online } }';
    const ids = ['GID_x@@@1', 'GID_x@@@2'];
    const keysOf = (variables: Record<string, unknown>) => {
      const keys = tallyRequestedDevices(schema, parse(query), undefined, variables, 'inst-default').keys;
      return ['inst-b', 'inst-default', 'other'].flatMap((instanceId) => ids.filter((clientId) => keys.has({ instanceId, clientId })).map((clientId) => `${instanceId}/${clientId}`));
    };
    const other = ['other/GID_x@@@1', 'other/GID_x@@@2'];
    expect(keysOf({ ids, instance: 'inst-b' })).toEqual(['inst-b/GID_x@@@1', 'inst-b/GID_x@@@2', ...other]);
    expect(keysOf({ ids, instance: null })).toEqual(['inst-default/GID_x@@@1', 'inst-default/GID_x@@@2', ...other]);
    expect(keysOf({ ids })).toEqual(['inst-default/GID_x@@@1', 'inst-default/GID_x@@@2', ...other]);
    expect(keysOf({ ids: null })).toEqual([]);
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

  it('counts devices asked by global ID through node and nodes, under the instance each ID names', () => {
    const ids = [
      deviceGlobalId({ instanceId: 'inst-default', clientId: 'GID_xyz@@@1' }),
      deviceGlobalId({ instanceId: 'inst-other', clientId: 'GID_xyz@@@1' }),
      deviceGlobalId({ instanceId: 'inst-default', clientId: 'GID_xyz@@@2' }),
      'not-an-id',
    ];
    const query = `query Q($ids: [ID!]!) {
      one: node(id: "${ids[0]}") { ... on Device { online } }
      many: nodes(ids: $ids) { id ... on Device { online } }
      same: device(clientId: "GID_xyz@@@2") { online }
    }`;
    const tallied = tallyRequestedDevices(schema, parse(query), undefined, { ids }, 'inst-default');
    expect(tallied.keys.size).toBe(3);
    expect(tallied.entries).toBe(1 + 4 + 1);
    expect(tallied.cost).toBe(1 + 4 * 2 + 1);
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

  // measureRequestedDevices (which builds no distinct set) must agree with the full tally.
  const measure = (query: string, variables?: Record<string, unknown>) => {
    const document = parse(query);
    const measured = measureRequestedDevices(schema, document, undefined, variables);
    const { entries, cost } = tallyRequestedDevices(schema, document, undefined, variables, undefined);
    expect(measured).toEqual({ entries, cost });
    return measured;
  };
  const entries = (query: string, variables?: Record<string, unknown>) => measure(query, variables).entries;

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

  it('reads a list the request leaves to its variable\'s default like one sent as the variable', () => {
    const ids = Array.from({ length: 600 }, () => '"GID_x@@@1"').join(', ');
    expect(entries(`query Q($ids: [ID!]! = [${ids}]) { devices(clientIds: $ids) { online } }`)).toBe(600);
    expect(entries(`query Q($ids: [ID!]! = [${ids}]) { devices(clientIds: $ids) { online } }`, { ids: ['GID_x@@@1'] })).toBe(1);
    expect(entries('query Q($id: ID! = "GID_x@@@1", $in: String = "inst") { device(clientId: $id, instanceId: $in) { online } }')).toBe(1);
    // Named like properties every object inherits: still left out, still defaulted, as graphql-js sees them.
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(entries(`query Q($${name}: [ID!]! = [${ids}]) { devices(clientIds: $${name}) { online } }`)).toBe(600);
    }
  });

  it('counts nothing for variables that do not coerce: the operation is refused before anything runs', () => {
    expect(entries('query Q($ids: [ID!]! = ["GID_x@@@1"], $n: Int!) { devices(clientIds: $ids) { online } }', { n: 'many' })).toBe(0);
  });

  describe('cost: device entries times the fields selected on each', () => {
    const cost = (query: string, variables?: Record<string, unknown>) => measure(query, variables).cost;

    it('counts every field selected on a device, nested fields and aliases included', () => {
      expect(cost('{ device(clientId: "GID_x@@@1") { online } }')).toBe(1);
      expect(cost('{ device(clientId: "GID_x@@@1") { clientId a: online b: online presence { online checkedAt } } }')).toBe(6);
      expect(cost('{ devices(clientIds: ["GID_x@@@1", "GID_x@@@2"]) { clientId online } }')).toBe(4);
    });

    it('multiplies the fields of a fragment by every device it applies to: 30 aliases on 500 entries are 15,000', () => {
      const aliases = Array.from({ length: 30 }, (_, i) => `g${i}: groupId`).join(' ');
      const ids = Array.from({ length: 500 }, () => 'GID_x@@@1');
      expect(cost(`query Q($ids: [ID!]!) { devices(clientIds: $ids) { ...F } } fragment F on Device { ${aliases} }`, { ids })).toBe(15_000);
    });

    it('counts a fragment spread twice in one selection set once, as execution does, and walks nested spreads in linear time', () => {
      const levels = 40;
      const fragments = Array.from({ length: levels }, (_, i) =>
        i === levels - 1 ? `fragment F${i} on Device { online }` : `fragment F${i} on Device { ...F${i + 1} ...F${i + 1} clientId }`,
      ).join(' ');
      expect(cost(`{ device(clientId: "GID_x@@@1") { ...F0 ...F0 } } ${fragments}`)).toBe(levels);
    });

    it('counts the fields of _entities representations through their inline fragment', () => {
      const representations = Array.from({ length: 4 }, () => ({ __typename: 'Device', clientId: 'GID_x@@@1' }));
      expect(cost('query E($r: [_Any!]!) { _entities(representations: $r) { ... on Device { clientId online } } }', { r: representations })).toBe(8);
    });
  });
});
