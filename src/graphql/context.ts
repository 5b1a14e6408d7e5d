import type { RequestPresence } from '../presence/presence-loaders';

/** Built once per GraphQL request (one HTTP request, or one batch of operations sharing it). */
export interface GraphQLContext {
  /** The request's own loaders: every presence lookup of the request goes through them. */
  presence: RequestPresence;
  /** The instance used when a query names none (MQTT_INSTANCE_ID; the local instance by default). */
  defaultInstanceId?: string;
}
