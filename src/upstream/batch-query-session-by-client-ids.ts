import OpenApiUtil from '@alicloud/openapi-util';
import { SessionAction, type BatchSessionAnswer } from '../presence/session-api';
import { readOnlineStatus, readRequestId } from './answer-fields';
import { onsMqttParams, type OnsMqttClient } from './openapi-client';
import { malformedAnswer, type UpstreamCallContext } from './upstream-errors';

/**
 * BatchQuerySessionByClientIds (onsmqtt 2020-04-20): online status of 1 to 10 clients of one instance,
 * served from an internal cache that may lag the broker (upstream-api.md). QPS 100 per account.
 *
 * Request: `InstanceId`, `ClientIdList.1` … `ClientIdList.N`.
 * Answer: `{"RequestId", "OnlineStatusList": [{"ClientId", "OnlineStatus"}]}`.
 *
 * The ID count is not checked here: presence/ packs at most MAX_CLIENT_IDS_PER_BATCH_CALL, and whatever
 * the upstream says about more (ParameterCheckFailed) is mapped like any other refusal.
 */

const PARAMS = onsMqttParams(SessionAction.Batch);

export async function batchQuerySessionByClientIds(
  client: OnsMqttClient,
  instanceId: string,
  clientIds: readonly string[],
): Promise<BatchSessionAnswer> {
  // OpenApiUtil.query flattens the list the way the SDK does: ClientIdList.1=a&ClientIdList.2=b.
  const query = OpenApiUtil.query({ InstanceId: instanceId, ClientIdList: [...clientIds] });
  const body = await client.call(SessionAction.Batch, PARAMS, query);
  return parseBatchAnswer(body, clientIds, { action: SessionAction.Batch });
}

/**
 * Keys the answer by ClientId: the order of `OnlineStatusList` is not documented, nor whether unknown
 * IDs come back as `false` or are left out (upstream-api.md, UNCONFIRMED). An ID missing from the answer
 * stays missing, so the caller fails that ID alone instead of reporting it offline. Entries for IDs that
 * were not asked for are ignored.
 */
export function parseBatchAnswer(
  body: Record<string, unknown>,
  clientIds: readonly string[],
  context: UpstreamCallContext,
): BatchSessionAnswer {
  const requestId = readRequestId(body, context);
  const list = body.OnlineStatusList;
  if (!Array.isArray(list)) throw malformedAnswer(context, requestId);
  const asked = new Set(clientIds);
  const statuses = new Map<string, boolean>();
  for (const entry of list as unknown[]) {
    if (typeof entry !== 'object' || entry === null) throw malformedAnswer(context, requestId);
    const { ClientId: clientId, OnlineStatus: rawStatus } = entry as Record<string, unknown>;
    const online = readOnlineStatus(rawStatus);
    if (typeof clientId !== 'string' || online === undefined) throw malformedAnswer(context, requestId);
    // Two different statuses for one ID: neither can be trusted.
    if (statuses.has(clientId) && statuses.get(clientId) !== online) throw malformedAnswer(context, requestId);
    if (asked.has(clientId)) statuses.set(clientId, online);
  }
  return { requestId, statuses };
}
