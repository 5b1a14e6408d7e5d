import {
  getArgumentValues,
  getVariableValues,
  isNonNullType,
  isUnionType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { PresenceKeyMap } from '../presence/presence-key-map';
import { planOf } from './device-fields-plan';
import { parseDeviceGlobalId } from './device-id';

/**
 * Distinct devices, by instance then Client ID. Not a Set of joined "instance\nclientId" strings:
 * that builds and hashes a new string per ID and request, where the Client ID strings of the
 * request's variables are hashed once and then found by the request's loaders too.
 */
export type DistinctDevices = PresenceKeyMap<true>;

export interface RequestedDevices {
  /** One entry per instance and Client ID: what MAX_IDS_PER_REQUEST bounds. */
  keys: DistinctDevices;
  /** The device entries the answer would hold, duplicates and aliases counted. */
  entries: number;
  /** What MAX_QUERY_COST bounds: see `RequestedCost.cost`. */
  cost: number;
}

export interface RequestedCost {
  /** The device entries the answer would hold, duplicates and aliases counted. */
  entries: number;
  /**
   * The fields the answer would hold for those devices: each entry times the fields selected on it
   * (aliases, fragments and `presence { … }` counted). Distinct IDs are capped separately, but 5,000
   * copies of one ID are 5,000 answers to build, and 30 aliases in a fragment make each entry 30
   * fields (and, for a malformed ID, 30 errors).
   */
  cost: number;
  /**
   * The `__typename` of the first `_entities` representation no entity type of this schema answers
   * to (federation's resolver would throw a bare Error for it, an internal error); undefined if none.
   */
  unresolvableEntity?: unknown;
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
  let cost = 0;
  visitRequestedDevices(schema, document, operationName, variables, (clientId, instanceId, fields) => {
    entries++;
    cost += fields;
    if (typeof clientId !== 'string') return;
    keys.setParts(typeof instanceId === 'string' ? instanceId : (defaultInstanceId ?? ''), clientId, true);
  });
  return { keys, entries, cost };
}

/**
 * The device entries and the cost of the operation: `tallyRequestedDevices` without building the
 * distinct set. While `entries` is within MAX_IDS_PER_REQUEST, so is the number of distinct devices,
 * and the set need not be built at all.
 */
export function measureRequestedDevices(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
): RequestedCost {
  const measured: RequestedCost = { entries: 0, cost: 0 };
  visitRequestedDevices(
    schema,
    document,
    operationName,
    variables,
    (_clientId, _instanceId, fields) => {
      measured.entries++;
      measured.cost += fields;
    },
    (typename) => {
      if (!('unresolvableEntity' in measured)) measured.unresolvableEntity = typename;
    },
  );
  return measured;
}

/**
 * Calls `visit` with the arguments of every device the operation asks about, as execution will see
 * them, and the number of fields selected on it.
 */
function visitRequestedDevices(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  visit: (clientId: unknown, instanceId: unknown, fields: number) => void,
  unresolvable: (typename: unknown) => void = () => undefined,
): void {
  const plan = planOf(schema, document, operationName);
  if (!plan) return;
  const values = variableValues(schema, plan.operation, variables);
  if (!values) return; // variables that do not coerce: Apollo refuses the operation, nothing runs
  for (const { field, definition, fields } of plan.deviceFields) {
    let args: Record<string, unknown>;
    try {
      args = argumentValues(definition, field, values);
    } catch {
      continue; // invalid arguments: the field fails before its resolver runs
    }
    switch (field.name.value) {
      case 'device':
        visit(args.clientId, args.instanceId, fields);
        break;
      case 'node':
        visitGlobalId(args.id, fields, visit);
        break;
      case 'nodes':
        for (const id of asArray(args.ids)) visitGlobalId(id, fields, visit);
        break;
      case 'devices':
        for (const clientId of asArray(args.clientIds)) visit(clientId, args.instanceId, fields);
        break;
      case 'presenceChanged':
        for (const clientId of asArray(args.clientIds)) visit(clientId, args.instanceId, fields);
        for (const id of asArray(args.ids)) visitGlobalId(id, fields, visit);
        break;
      case 'onlineDevices':
        // The page's devices are not known before it runs: count the most it may hold.
        for (let i = 0; i < (typeof args.first === 'number' ? Math.max(0, args.first) : 0); i++) visit(undefined, undefined, fields);
        break;
      case '_entities':
        for (const representation of asArray(args.representations)) {
          const ref = representation as Record<string, unknown> | null;
          if (ref?.__typename === 'Device') visit(ref.clientId, ref.instanceId, fields);
          else if (!isEntityType(schema, ref?.__typename)) unresolvable(ref?.__typename);
        }
        break;
    }
  }
}

/**
 * A device asked for by its global ID: counted under the instance and Client ID it names, as its
 * `online` will be loaded. A malformed ID is still an entry (its fields become errors to build), but
 * names no device.
 */
function visitGlobalId(id: unknown, fields: number, visit: (clientId: unknown, instanceId: unknown, fields: number) => void): void {
  let key: { instanceId: string; clientId: string } | undefined;
  try {
    key = typeof id === 'string' ? parseDeviceGlobalId(id) : undefined;
  } catch {
    key = undefined;
  }
  visit(key?.clientId, key?.instanceId, fields);
}

/**
 * `getArgumentValues` of graphql-js, which execution uses, without its cost on the usual request:
 * when every argument the field is given is a variable the request sets (not null), each value is
 * the variable's as it stands (graphql-js reads a variable's value as is: the variables were
 * coerced, or are the request's own, see `variableValues`) and each argument left out takes its
 * default. graphql-js builds the same object, then copies it out of a null-prototype dictionary,
 * which was about 2 % of an all-cached 10-device request's CPU. Anything else (a literal, a
 * variable left out or null, a required argument missing) is read by graphql-js itself.
 */
function argumentValues(definition: GraphQLField<unknown, unknown>, field: FieldNode, values: Record<string, unknown>): Record<string, unknown> {
  const given = field.arguments ?? [];
  const args: Record<string, unknown> = {};
  for (const argument of definition.args) {
    const node = given.find((candidate) => candidate.name.value === argument.name);
    if (node === undefined) {
      if (argument.defaultValue !== undefined) args[argument.name] = argument.defaultValue;
      else if (isNonNullType(argument.type)) return getArgumentValues(definition, field, values);
      continue;
    }
    if (node.value.kind !== Kind.VARIABLE) return getArgumentValues(definition, field, values);
    const value = Object.hasOwn(values, node.value.name.value) ? values[node.value.name.value] : undefined;
    if (value === undefined || value === null) return getArgumentValues(definition, field, values);
    args[argument.name] = value;
  }
  return args;
}

/**
 * The variables as execution will see them: a variable the request leaves out takes its default
 * from the document, so `query($ids: [ID!]! = [ …600 IDs… ])` is counted like the same list sent
 * as a variable. Coerced only when a default applies: otherwise the request's own values are what
 * `getArgumentValues` reads (this runs on every request). Undefined when they do not coerce.
 */
function variableValues(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  const given = variables ?? {};
  const definitions = operation.variableDefinitions ?? [];
  // Own properties only, as graphql-js reads them: `in` would find `$toString` on Object.prototype.
  if (!definitions.some((definition) => definition.defaultValue && !Object.hasOwn(given, definition.variable.name.value))) return given;
  const coerced = getVariableValues(schema, definitions, given, { maxErrors: 1 });
  return coerced.coerced;
}

/** A member of federation's `_Entity` union: a type `_entities` can resolve. */
function isEntityType(schema: GraphQLSchema, typename: unknown): boolean {
  const entity = schema.getType('_Entity');
  return typeof typename === 'string' && isUnionType(entity) && entity.getTypes().some((type) => type.name === typename);
}

/**
 * A list argument as execution will see it: GraphQL's input coercion takes a single value where a list
 * is expected as a list of that one value (`clientIds: $ids` with `"ids": "GID_x@@@1"`), so it counts
 * as one device here too, not none.
 */
function asArray(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === null ? [] : [value];
}
