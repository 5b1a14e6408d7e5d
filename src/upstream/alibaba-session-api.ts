import type { BatchSessionAnswer, ExactSessionAnswer, SessionApi } from '../presence/session-api';
import { batchQuerySessionByClientIds } from './batch-query-session-by-client-ids';
import type { AccessKeyCredential } from '../config/upstream';
import { createOpenApiClient, fixedCredentials, type CredentialLookup, type OnsMqttClient } from './openapi-client';
import { credentialSourceFailed } from './upstream-errors';
import { querySessionByClientId } from './query-session-by-client-id';

export { fixedCredentials, type CredentialLookup } from './openapi-client';

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
  /** Asked before every call: the renewing credentials of a source (credentials/resolve-credentials.ts). */
  credentials?: CredentialLookup;
  /** A fixed AccessKey instead (the local instance's dev identity, bench, tests); empty parts are refused. */
  credential?: AccessKeyCredential;
}

export function createAlibabaSessionApi(config: Readonly<AlibabaSessionApiConfig>): AlibabaSessionApi {
  const { credentials, credential, ...rest } = config;
  if (!credentials && (!credential?.accessKeyId || !credential.accessKeySecret)) {
    // The SDK's static provider would silently fall back to the environment for an empty value.
    throw credentialSourceFailed('static', 'the AccessKey given', 'its ID or secret is empty; for the local instance check LOCAL_ACCESS_KEY_ID and LOCAL_ACCESS_KEY_SECRET');
  }
  return new AlibabaSessionApi(createOpenApiClient({ ...rest, credentials: credentials ?? fixedCredentials(credential!) }));
}
