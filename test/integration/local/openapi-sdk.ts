import OpenApiClient, { Config, OpenApiRequest } from '@alicloud/openapi-client';
import OpenApiUtil from '@alicloud/openapi-util';
import { RuntimeOptions } from '@alicloud/tea-util';
import { onsMqttParams } from '../../../src/upstream/openapi-client';

/**
 * Calls the emulator the way the official onsmqtt SDK does (upstream-api.md, "Calling it from
 * Node.js"): @alicloud/openapi-client's callApi, RPC style, POST /, parameters in the query string.
 */
export interface SdkKey {
  accessKeyId: string;
  accessKeySecret: string;
}

/** `signatureAlgorithm: 'v2'` makes the SDK sign RPC calls with V1 (HMAC-SHA1); unset means V3. */
export function sdkClient(endpoint: string, key: SdkKey, signatureAlgorithm?: 'v2'): OpenApiClient {
  return new OpenApiClient(new Config({ ...key, endpoint: new URL(endpoint).host, protocol: 'http', signatureAlgorithm }));
}

export async function callAction(client: OpenApiClient, action: string, query: Record<string, unknown>): Promise<Record<string, any>> {
  const response = await client.callApi(onsMqttParams(action), new OpenApiRequest({ query: OpenApiUtil.query(query) }), new RuntimeOptions({}));
  return response.body as Record<string, any>;
}

/** The SDK's error for a 4xx/5xx answer: `.code` is the body's Code, `.data` the body plus `statusCode`. */
export interface SdkError {
  code: string;
  statusCode: number;
  message: string;
  data: Record<string, any>;
}

export async function callError(client: OpenApiClient, action: string, query: Record<string, unknown>): Promise<SdkError> {
  try {
    await callAction(client, action, query);
  } catch (error) {
    return error as SdkError;
  }
  throw new Error(`${action} succeeded but was expected to fail`);
}
