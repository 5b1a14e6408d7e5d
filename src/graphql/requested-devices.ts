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

/**
 * Counts the distinct devices one operation asks about, before it runs: `device` and `devices` with
 * every alias and fragment, and the `Device` representations of a federation `_entities` call. IDs
 * passed in variables count too (a cost analysis that only reads the document would miss them).
 *
 * This lets a request over MAX_IDS_PER_REQUEST fail before any upstream call; the per-request loader
 * enforces the same cap as a backstop.
 */
export function countRequestedDevices(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  defaultInstanceId: string | undefined,
): number {
  const operation = getOperationAST(document, operationName);
  const rootType = operation ? schema.getRootType(operation.operation) : undefined;
  if (!operation || !rootType) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const keys = new Set<string>();
  const add = (clientId: unknown, instanceId: unknown) => {
    if (typeof clientId !== 'string') return;
    const instance = typeof instanceId === 'string' ? instanceId : (defaultInstanceId ?? '');
    keys.add(`${instance}\n${clientId}`);
  };
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
        add(args.clientId, args.instanceId);
        break;
      case 'devices':
        for (const clientId of asArray(args.clientIds)) add(clientId, args.instanceId);
        break;
      case '_entities':
        for (const representation of asArray(args.representations)) {
          const ref = representation as Record<string, unknown> | null;
          if (ref?.__typename === 'Device') add(ref.clientId, ref.instanceId);
        }
        break;
    }
  }
  return keys.size;
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
