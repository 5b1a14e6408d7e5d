import {
  getArgumentValues,
  getOperationAST,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { PresenceKeyMap } from '../presence/presence-key-map';

/**
 * Distinct devices, by instance then Client ID. Not a Set of joined "instance\nclientId" strings:
 * that builds and hashes a new string per ID and request, where the Client ID strings of the
 * request's variables are hashed once and then found by the request's loaders too.
 */
export type DistinctDevices = PresenceKeyMap<true>;

export interface RequestedDevices {
  /** One entry per instance and Client ID: what MAX_IDS_PER_REQUEST bounds. */
  keys: DistinctDevices;
  /**
   * The device entries the answer would hold, duplicates and aliases counted: what MAX_QUERY_COST
   * bounds (distinct IDs are capped separately, but 5,000 copies of one ID are 5,000 answers to build).
   */
  entries: number;
}

/**
 * The devices one operation asks about, before it runs, in one walk: `device` and `devices` with
 * every alias and fragment, and the `Device` representations of a federation `_entities` call. IDs
 * passed in variables count too (a cost analysis that only reads the document would miss them).
 *
 * This lets a request over its limits fail before any upstream call; the per-request loader enforces
 * the distinct-ID cap as a backstop. A batch of operations shares one request's cap: pass the same
 * `keys` for each of its operations.
 */
export function tallyRequestedDevices(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  defaultInstanceId: string | undefined,
  keys: DistinctDevices = new PresenceKeyMap(),
): RequestedDevices {
  let entries = 0;
  visitRequestedDevices(schema, document, operationName, variables, (clientId, instanceId) => {
    entries++;
    if (typeof clientId !== 'string') return;
    keys.setParts(typeof instanceId === 'string' ? instanceId : (defaultInstanceId ?? ''), clientId, true);
  });
  return { keys, entries };
}

/**
 * How many device entries the operation asks for, duplicates and aliases counted: `entries` of
 * `tallyRequestedDevices` without building the distinct set. While it is within MAX_IDS_PER_REQUEST,
 * so is the number of distinct devices, and the set need not be built at all.
 */
export function countRequestedEntries(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
): number {
  let entries = 0;
  visitRequestedDevices(schema, document, operationName, variables, () => {
    entries++;
  });
  return entries;
}

/** Calls `visit` with the arguments of every device the operation asks about, as given. */
function visitRequestedDevices(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  visit: (clientId: unknown, instanceId: unknown) => void,
): void {
  const operation = getOperationAST(document, operationName);
  const rootType = operation ? schema.getRootType(operation.operation) : undefined;
  if (!operation || !rootType) return;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  for (const field of rootFields(operation.selectionSet, fragments, new Set())) {
    const definition = rootType.getFields()[field.name.value];
    if (!definition) continue;
    let args: Record<string, unknown>;
    try {
      args = getArgumentValues(definition, field, variables ?? {});
    } catch {
      continue; // invalid arguments: validation reports them, nothing runs
    }
    switch (field.name.value) {
      case 'device':
        visit(args.clientId, args.instanceId);
        break;
      case 'devices':
        for (const clientId of asArray(args.clientIds)) visit(clientId, args.instanceId);
        break;
      case '_entities':
        for (const representation of asArray(args.representations)) {
          const ref = representation as Record<string, unknown> | null;
          if (ref?.__typename === 'Device') visit(ref.clientId, ref.instanceId);
        }
        break;
    }
  }
}

/** The root fields of a selection set, through fragment spreads and inline fragments. */
function* rootFields(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  visited: Set<string>,
): Generator<FieldNode> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      yield selection;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      yield* rootFields(selection.selectionSet, fragments, visited);
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (fragment && !visited.has(name)) {
        visited.add(name);
        yield* rootFields(fragment.selectionSet, fragments, visited);
      }
    }
  }
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
