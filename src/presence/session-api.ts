/**
 * The upstream as the presence core sees it: the two ApsaraMQ for MQTT OpenAPI actions that tell
 * whether a client is connected. `upstream/` implements it over Alibaba's SDK (against the cloud or the
 * local instance's emulator); tests may implement it directly.
 *
 * Implementations make exactly one upstream call per method call and never retry: retries, budget and
 * batching live in `presence/`, in one place.
 */
export interface SessionApi {
  /**
   * BatchQuerySessionByClientIds: 1 to 10 Client IDs of one instance per call.
   * The answer is keyed by ClientId because the order of `OnlineStatusList` is not documented;
   * an ID absent from the map was not answered (the caller treats that as an error, never as `false`).
   */
  batchQuerySessions(instanceId: string, clientIds: readonly string[]): Promise<BatchSessionAnswer>;

  /** QuerySessionByClientId: one Client ID, an exact (uncached) answer. */
  querySession(instanceId: string, clientId: string): Promise<ExactSessionAnswer>;
}

export interface BatchSessionAnswer {
  requestId: string;
  statuses: ReadonlyMap<string, boolean>;
}

export interface ExactSessionAnswer {
  requestId: string;
  online: boolean;
}

/** The upstream actions by their OpenAPI names; used for budgets and metric labels. */
export enum SessionAction {
  Batch = 'BatchQuerySessionByClientIds',
  Exact = 'QuerySessionByClientId',
}

/** BatchQuerySessionByClientIds: at most 10 Client IDs per call (ClientIdList.1 … ClientIdList.10). */
export const MAX_CLIENT_IDS_PER_BATCH_CALL = 10;
