/**
 * What the request limits' walk of an operation (requested-devices.ts) reads of the document alone:
 * the operation, its root fields that ask about devices, and the fields selected on each device.
 */
import { getOperationAST, Kind, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLField, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

/** What the walk reads of the document alone: worked out once per parsed document and operation. */
export interface OperationPlan {
  operation: OperationDefinitionNode;
  /** The root fields that ask about devices, with the fields selected on each device. */
  deviceFields: Array<{ field: FieldNode; definition: GraphQLField<unknown, unknown>; fields: number }>;
}

/**
 * Per schema, per parsed document (Apollo's document cache and the WebSocket/SSE one hand back the same
 * object for the same text, and let it go when they evict it), per operation name: only the arguments,
 * which depend on the variables, are read again for each request.
 */
const plans = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, OperationPlan | null>>>();

export function planOf(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): OperationPlan | undefined {
  let bySchema = plans.get(schema);
  if (!bySchema) plans.set(schema, (bySchema = new WeakMap()));
  let byName = bySchema.get(document);
  if (!byName) bySchema.set(document, (byName = new Map()));
  const name = operationName ?? '';
  let plan = byName.get(name);
  if (plan === undefined) {
    plan = planOperation(schema, document, operationName) ?? null;
    byName.set(name, plan);
  }
  return plan ?? undefined;
}

function planOperation(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): OperationPlan | undefined {
  const operation = getOperationAST(document, operationName);
  const rootType = operation ? schema.getRootType(operation.operation) : undefined;
  if (!operation || !rootType) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const counted = new Map<string, number>();
  const deviceFields: OperationPlan['deviceFields'] = [];
  for (const field of rootFields(operation.selectionSet, fragments, new Set())) {
    const definition = DEVICE_ROOT_FIELDS.has(field.name.value) ? rootType.getFields()[field.name.value] : undefined;
    if (!definition) continue;
    deviceFields.push({ field, definition, fields: field.selectionSet ? countFields(field.selectionSet, fragments, counted) : 1 });
  }
  return { operation, deviceFields };
}

// presenceChanged: each of its devices sends events carrying the whole selection, the first at once.
// onlineDevices: a page of `first` devices, each carrying the connection's whole selection (an upper bound).
// node, nodes: a device per global ID, of whatever instance it names.
const DEVICE_ROOT_FIELDS = new Set(['device', 'devices', 'node', 'nodes', '_entities', 'presenceChanged', 'onlineDevices']);

/**
 * Fields selected on each device, at every depth, through fragments; each alias is a field. Like
 * execution, a fragment spread twice in one selection set counts once; @skip / @include are not
 * evaluated, nor fields of one name merged: an upper bound. Each fragment is counted once (`counted`),
 * so fragments spreading fragments cannot make this walk, as opposed to the count, grow exponentially.
 */
function countFields(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  counted: Map<string, number>,
  spread = new Set<string>(),
): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      count += 1 + (selection.selectionSet ? countFields(selection.selectionSet, fragments, counted) : 0);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += countFields(selection.selectionSet, fragments, counted, spread);
    } else {
      const name = selection.name.value;
      if (spread.has(name)) continue;
      spread.add(name);
      let fields = counted.get(name);
      if (fields === undefined) {
        // 0 while counting: a cycle (a validation error, nothing runs) must not loop here.
        counted.set(name, 0);
        const fragment = fragments.get(name);
        fields = fragment ? countFields(fragment.selectionSet, fragments, counted) : 0;
        counted.set(name, fields);
      }
      count += fields;
    }
  }
  return count;
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
