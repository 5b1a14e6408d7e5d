import type { BatchSessionAnswer, ExactSessionAnswer, SessionApi } from '../presence/session-api';
import { batchQuerySessionByClientIds } from './batch-query-session-by-client-ids';
import { createOpenApiClient, type ExplicitCredential, type OnsMqttClient } from './openapi-client';
import { querySessionByClientId } from './query-session-by-client-id';

export { assertCredentialsAvailable, type ExplicitCredential } from './openapi-client';

/**
 * SessionApi over the real onsmqtt OpenAPI (Alibaba Cloud or the local instance's emulator): exactly
 * one signed upstream call per method call, no retries (presence/ owns retries, budget and batching),
 * every failure a typed presence error from `upstream-errors.ts`. One per process, shared by every request.
 */
export class AlibabaSessionApi implements SessionApi {
  constructor(private readonly client: OnsMqttClient) {}

  /** The endpoint calls go to, e.g. for the startup log line. */
  get endpoint(): string {
    return this.client.endpoint;
  }

  batchQuerySessions(instanceId: string, clientIds: readonly string[]): Promise<BatchSessionAnswer> {
    return batchQuerySessionByClientIds(this.client, instanceId, clientIds);
  }

  querySession(instanceId: string, clientId: string): Promise<ExactSessionAnswer> {
    return querySessionByClientId(this.client, instanceId, clientId);
  }
}

export interface AlibabaSessionApiConfig {
  /** Full endpoint URL (`ONSMQTT_ENDPOINT`); otherwise `https://onsmqtt.<regionId>.aliyuncs.com`. */
  endpoint?: string;
  regionId?: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** Absent: the `@alicloud/credentials` default chain. */
  credential?: ExplicitCredential;
}

export function createAlibabaSessionApi(config: Readonly<AlibabaSessionApiConfig>): AlibabaSessionApi {
  return new AlibabaSessionApi(createOpenApiClient(config));
}
