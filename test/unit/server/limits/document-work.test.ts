import 'reflect-metadata';
import { parse, specifiedRules, type GraphQLSchema, type ValidationRule } from 'graphql';
import { buildPresenceSchema } from '../../../../src/graphql/schema';
import { documentWorkLimit, selectionsWritten } from '../../../../src/server/limits/document-work';
import { ValidatedDocuments } from '../../../../src/server/limits/validated-documents';

const STALL = `{ devices(clientIds: []) { ${'presence{online stale} '.repeat(330)} } }`;

describe('MAX_QUERY_FIELDS', () => {
  it('counts fields and fragment spreads as written, a fragment once however often it is spread', () => {
    expect(selectionsWritten(parse('{ device(clientId: "x") { online presence { online stale } } }'))).toBe(5);
    expect(selectionsWritten(parse('{ a: device(clientId: "x") { ...F ...F } } fragment F on Device { online }'))).toBe(4);
    expect(selectionsWritten(parse(STALL))).toBe(991);
  });

  it('refuses a document over the limit over HTTP, each copy differing by a comment too, in one body, a batch or a GET', () => {
    const check = documentWorkLimit({ maxFields: 250, maxTokens: 2000 });
    expect(check({ query: STALL }, '')).toMatchObject({ status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message: expect.stringContaining('991 fields') });
    expect(check({ query: `# another\n${STALL}` }, '')).toMatchObject({ status: 400 });
    expect(check([{ query: '{ __typename }' }, { query: STALL }], '')).toMatchObject({ status: 400 });
    expect(check(undefined, `?query=${encodeURIComponent(STALL)}`)).toMatchObject({ status: 400 });
    expect(check({ query: '{ __typename }' }, '')).toBeUndefined();
    // What does not parse is Apollo's to answer.
    expect(check({ query: '{ nope' }, '')).toBeUndefined();
  });
});

describe('ValidatedDocuments', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => (schema = await buildPresenceSchema()));

  /** Validation rules plus one that counts how often a document is validated. */
  function counting() {
    const counter = { validations: 0 };
    const counted: ValidationRule = () => ({ Document: () => void counter.validations++ });
    return { counter, rules: [...specifiedRules, counted] };
  }

  it('parses and validates each distinct query text once, whatever the number of subscribes', () => {
    const { counter, rules } = counting();
    const documents = new ValidatedDocuments({ schema, rules, maxFields: 250 });
    const query = '{ device(clientId: "GID_a@@@b") { online } }';
    const first = documents.check(query);
    for (let i = 0; i < 60; i++) expect(documents.check(query).document).toBe(first.document);
    expect(counter.validations).toBe(1);
  });

  it('remembers refusals too, and refuses a document over MAX_QUERY_FIELDS without validating it', () => {
    const { counter, rules } = counting();
    const documents = new ValidatedDocuments({ schema, rules, maxFields: 250 });
    for (let i = 0; i < 60; i++) {
      expect(documents.check(STALL).errors).toEqual([expect.objectContaining({ message: expect.stringContaining('MAX_QUERY_FIELDS'), extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }) })]);
      expect(documents.check('{ nope }').errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    }
    expect(counter.validations).toBe(1);
  });

  it('keeps at most maxEntries texts, forgetting the least recently used', () => {
    const { counter, rules } = counting();
    const documents = new ValidatedDocuments({ schema, rules, maxFields: 250, maxEntries: 2 });
    documents.check('{ a: __typename }');
    documents.check('{ b: __typename }');
    documents.check('{ a: __typename }');
    documents.check('{ c: __typename }'); // forgets b
    documents.check('{ a: __typename }');
    expect(counter.validations).toBe(3);
    documents.check('{ b: __typename }');
    expect(counter.validations).toBe(4);
  });
});
