import { buildSchema, parse, specifiedRules, validate, getIntrospectionQuery } from 'graphql';
import { queryLimitRules } from '../../../../src/server/limits/query-limits.rules';

const schema = buildSchema(`
  type Query { device(clientId: ID!): Device node: Node }
  type Device { clientId: ID! online: Boolean }
  type Node { child: Node device: Device }
`);

const limits = { maxDepth: 4, maxAliases: 3, maxDirectives: 2 };
const errorsOf = (query: string) => validate(schema, parse(query), [...specifiedRules, ...queryLimitRules(limits)]).map((e) => e.message);

describe('queryLimitRules', () => {
  it('accepts an operation within every limit', () => {
    expect(errorsOf('{ a: device(clientId: "1") { online @include(if: true) } b: device(clientId: "2") { online } }')).toEqual([]);
  });

  it('refuses more aliases than allowed, counting aliases of the same field and ID', () => {
    const query = `{ ${Array.from({ length: 4 }, (_, i) => `a${i}: device(clientId: "same") { online }`).join(' ')} }`;
    expect(errorsOf(query)).toEqual(['This document has 4 aliases; at most 3 are allowed (MAX_QUERY_ALIASES)']);
  });

  it('refuses more directives than allowed', () => {
    const query = '{ device(clientId: "1") { clientId @include(if: true) online @skip(if: false) } node { device @include(if: true) { online } } }';
    expect(errorsOf(query)).toEqual(['This document has 3 directives; at most 2 are allowed (MAX_QUERY_DIRECTIVES)']);
  });

  it('refuses nesting deeper than allowed, through fragments', () => {
    expect(errorsOf('{ node { child { child { device { online } } } } }')).toEqual([
      'This operation nests fields 5 deep; at most 4 are allowed (MAX_QUERY_DEPTH)',
    ]);
    expect(errorsOf('{ node { ...Deep } } fragment Deep on Node { child { child { device { online } } } }')).toHaveLength(1);
    expect(errorsOf('{ node { child { device { online } } } }')).toEqual([]);
  });

  it('measures each fragment once, so fragments that each spread the next twice cost no more than their text', () => {
    // Walked at every spread, 40 such fragments would take 2^40 steps: this test would never end.
    const fragments = Array.from({ length: 40 }, (_, i) => `fragment F${i} on Node { child { ...F${i + 1} ...F${i + 1} } }`);
    const query = `{ node { ...F0 } } ${fragments.join(' ')} fragment F40 on Node { device { online } }`;
    expect(errorsOf(query)).toEqual(['This operation nests fields 43 deep; at most 4 are allowed (MAX_QUERY_DEPTH)']);
  });

  it('leaves the depth of introspection to its own switch, so GraphiQL’s standard query still passes', () => {
    expect(errorsOf(getIntrospectionQuery())).toEqual([]);
  });

  it('does not loop on a fragment cycle, which the standard rules report', () => {
    const errors = errorsOf('{ node { ...A } } fragment A on Node { child { ...B } } fragment B on Node { child { ...A } }');
    expect(errors.some((message) => /Cannot spread fragment "A" within itself/.test(message))).toBe(true);
  });
});
