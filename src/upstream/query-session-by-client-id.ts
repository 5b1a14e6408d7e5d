import OpenApiUtil from '@alicloud/openapi-util';
import { SessionAction, type ExactSessionAnswer } from '../presence/session-api';
import { readOnlineStatus, readRequestId } from './answer-fields';
import { onsMqttParams, type OnsMqttClient } from './openapi-client';
import { malformedAnswer, type UpstreamCallContext } from './upstream-errors';

/**
 * QuerySessionByClientId (onsmqtt 2020-04-20): online status of one client, exact (not from the
 * cache BatchQuerySessionByClientIds reads). QPS 500 per account (upstream-api.md).
 *
 * Request: `InstanceId`, `ClientId`. Answer: `{"RequestId", "OnlineStatus": true}`.
 */

const PARAMS = onsMqttParams(SessionAction.Exact);

export async function querySessionByClientId(client: OnsMqttClient, instanceId: string, clientId: string): Promise<ExactSessionAnswer> {
  const query = OpenApiUtil.query({ InstanceId: instanceId, ClientId: clientId });
  const body = await client.call(SessionAction.Exact, PARAMS, query);
  return parseExactAnswer(body, { action: SessionAction.Exact });
}

export function parseExactAnswer(body: Record<string, unknown>, context: UpstreamCallContext): ExactSessionAnswer {
  const requestId = readRequestId(body, context);
  const online = readOnlineStatus(body.OnlineStatus);
  if (online === undefined) throw malformedAnswer(context, requestId);
  return { requestId, online };
}
