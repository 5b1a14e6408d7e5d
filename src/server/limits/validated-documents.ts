import { ApolloServerErrorCode } from '@apollo/server/errors';
import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema, type ParseOptions, type ValidationRule } from 'graphql';
import { BoundedLru } from './bounded-lru';
import { selectionsWritten, tooManyFieldsError } from './document-work';

/** A query text parsed and validated: its document, or the errors to answer (with Apollo's codes). */
export type CheckedDocument = { document: DocumentNode; errors?: undefined } | { document?: undefined; errors: readonly GraphQLError[] };

export interface ValidatedDocumentsOptions {
  schema: GraphQLSchema;
  rules: readonly ValidationRule[];
  parseOptions?: ParseOptions;
  /** MAX_QUERY_FIELDS, checked between parsing and validation (document-work.ts). */
  maxFields: number;
  /**
   * Distinct query texts remembered. Each is at most MAX_QUERY_BYTES and MAX_QUERY_FIELDS, so its
   * document is a few hundred KB at worst and usually a few KB. @default 500
   */
  maxEntries?: number;
}

/**
 * Parse, MAX_QUERY_FIELDS and validation, done once per distinct query text: what Apollo's document
 * cache does over HTTP, for operations over WebSocket, which graphql-ws would otherwise parse and
 * validate on every subscribe (60 subscribes of one heavy document blocked the event loop for 3.3 s).
 * Refusals are remembered too, so repeating a refused document costs a map lookup. Per process,
 * shared by every connection; the validation does not depend on the caller (scope and limits that do
 * are checked per operation, after this).
 */
export class ValidatedDocuments {
  private readonly checked: BoundedLru<string, CheckedDocument>;

  constructor(private readonly options: ValidatedDocumentsOptions) {
    this.checked = new BoundedLru(options.maxEntries ?? 500);
  }

  check(query: string): CheckedDocument {
    let result = this.checked.get(query);
    if (!result) {
      result = this.parseAndValidate(query);
      this.checked.set(query, result);
    }
    return result;
  }

  private parseAndValidate(query: string): CheckedDocument {
    let document: DocumentNode;
    try {
      document = parse(query, this.options.parseOptions);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      return { errors: [withCode(error, ApolloServerErrorCode.GRAPHQL_PARSE_FAILED)] };
    }
    const count = selectionsWritten(document);
    if (count > this.options.maxFields) return { errors: [tooManyFieldsError(count, this.options.maxFields)] };
    const errors = validate(this.options.schema, document, this.options.rules);
    if (errors.length > 0) return { errors: errors.map((error) => withCode(error, ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED)) };
    return { document };
  }
}

/** A parse or validation error with the code Apollo gives it over HTTP (it has none of its own). */
function withCode(error: GraphQLError, code: ApolloServerErrorCode): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });
}
