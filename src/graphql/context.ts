import type { RequestPresence } from '../presence/presence-loaders';
import type { GroupPresence } from '../presence/status-notices/group-presence';
import type { PresenceWatch } from '../presence/presence-watch';
import type { PresenceKey } from '../presence/types';
import type { Caller } from '../common/caller';

/** Built once per GraphQL request (one HTTP request, or one batch of operations sharing it). */
export interface GraphQLContext {
  /** Who is asking, with what scope (authenticated before the request reached GraphQL). */
  caller: Caller;
  /** The request's own loaders: every presence lookup of the request goes through them. */
  presence: RequestPresence;
  /**
   * Device fields the request's operations were let through with so far (MAX_QUERY_COST): the
   * operations of a batch share the limit. Counted before the batch runs where the texts are in it
   * (operation-batches.ts); a persisted query sent by its hash alone is only known here.
   */
  requestCost?: { fields: number };
  /** The instance used when a query names none (MQTT_INSTANCE_ID; the local instance by default). */
  defaultInstanceId?: string;
  /** Lists and counts of a group from the status notices; absent where notices are off. One per process. */
  groups?: GroupPresence;
  /** Present on operations over WebSocket (graphql-ws): what `presenceChanged` needs. */
  subscriptions?: PresenceSubscriptions;
}

/** What a subscription may watch, and through what: built per WebSocket operation. */
export interface PresenceSubscriptions {
  /**
   * Where changes come from: the process's one watch, through the caller's own door (caller-watches.ts),
   * which holds the caller to MAX_WATCHED_DEVICES_PER_CALLER and its lookup share.
   */
  watch: Pick<PresenceWatch, 'watch'>;
  /** Distinct Client IDs one subscription may watch (MAX_IDS_PER_REQUEST). */
  maxIdsPerSubscription: number;
  /** The caller's scope: a key outside it refuses the whole subscription with FORBIDDEN. */
  inScope(key: PresenceKey): boolean;
}
