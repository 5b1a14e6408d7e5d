import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { PresenceErrorCode } from '../../presence/errors';
import { measureRequestedDevices, tallyRequestedDevices } from '../../graphql/requested-devices';
import type { RequestHooks } from '../http/request-listeners.plugin';

/**
 * Rejects an operation that asks about more than `maxIdsPerRequest` distinct devices before it runs,
 * so it costs no upstream call at all (every call is billed, and the account shares 100 per second).
 * A batch of operations is counted as a whole before Apollo sees it (operation-batches.ts).
 *
 * Also rejects one that would return more than `maxCost` device fields (MAX_QUERY_COST): each device
 * entry (duplicates and aliases counted, list lengths read from the variables and their defaults)
 * times the fields selected on it. A static cost analysis of the document alone would let 5,000 IDs
 * in a variable through; counting entries alone, 30 aliases in a fragment on each of them.
 */
export function requestLimitsHooks(options: RequestLimits): RequestHooks {
  return {
    async didResolveOperation({ schema, document, operationName, request, contextValue }) {
      const cost = assertWithinRequestLimits(schema, document, operationName, request.variables, options);
      const spent = contextValue.requestCost;
      if (spent === undefined) return;
      // A refused operation runs nothing, so its cost is not added: later ones that fit still run. Only
      // a batch gets here (one operation alone was checked above), whose status is shared by all its
      // answers: 400 would tell the client the others failed too.
      if (spent.fields + cost > options.maxCost) {
        throw overCostError(spent.fields + cost, options.maxCost, 'The operations of this request together', 200);
      }
      spent.fields += cost;
    },
  };
}

export interface RequestLimits {
  maxIdsPerRequest: number;
  maxCost: number;
  defaultInstanceId?: string;
}

/** The checks above, for any transport (operations over WebSocket too): throws the refusal, or answers the operation's cost. */
export function assertWithinRequestLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  options: RequestLimits,
): number {
  const measured = measureRequestedDevices(schema, document, operationName, variables ?? undefined);
  const { entries, cost } = measured;
  if ('unresolvableEntity' in measured) {
    throw new GraphQLError(
      `_entities was asked for a representation of type ${JSON.stringify(measured.unresolvableEntity) ?? 'undefined'}; this subgraph resolves only its entity types (Device)`,
      { extensions: { code: PresenceErrorCode.BadUserInput, http: { status: 400 } } },
    );
  }
  // No more entries than the cap: no more distinct devices either, so the usual request builds no set.
  if (entries > options.maxIdsPerRequest) {
    const requested = tallyRequestedDevices(schema, document, operationName, variables ?? undefined, options.defaultInstanceId).keys.size;
    if (requested > options.maxIdsPerRequest) throw tooManyDevicesError(requested, options.maxIdsPerRequest);
  }
  if (cost > options.maxCost) throw overCostError(cost, options.maxCost);
  return cost;
}

/**
 * A subscription's cost: its devices times the fields of the selection each of their events carries
 * (every device's first event comes at once). Its IDs are checked when it starts (presenceChanged),
 * with the subscription's own refusal.
 */
export function assertWithinSubscriptionCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  maxCost: number,
): void {
  const { cost } = measureRequestedDevices(schema, document, operationName, variables ?? undefined);
  if (cost > maxCost) throw overCostError(cost, maxCost, 'This subscription');
}

/** The refusal of an operation over MAX_QUERY_COST: nothing of it runs; HTTP 400 unless said otherwise. */
export function overCostError(cost: number, maxCost: number, asker = 'This operation', httpStatus = 400): GraphQLError {
  return new GraphQLError(
    `${asker} would return ${cost} device fields (each device entry times the fields selected on it); at most ${maxCost} are allowed (MAX_QUERY_COST)`,
    { extensions: { code: PresenceErrorCode.BadUserInput, http: { status: httpStatus } } },
  );
}

/** The refusal of a request over MAX_IDS_PER_REQUEST: the whole request, HTTP 400, no upstream call. */
export function tooManyDevicesError(requested: number, maxIdsPerRequest: number, asker = 'This operation'): GraphQLError {
  return new GraphQLError(
    `${asker} asks for ${requested} distinct Client IDs; at most ${maxIdsPerRequest} are allowed per request (MAX_IDS_PER_REQUEST)`,
    { extensions: { code: PresenceErrorCode.BadUserInput, http: { status: 400 } } },
  );
}
