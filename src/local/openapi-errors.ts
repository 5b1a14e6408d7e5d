/**
 * The error answers of the OpenAPI emulator, as Alibaba Cloud sends them: HTTP 4xx/5xx with
 * `{"RequestId", "HostId", "Code", "Message"}`, gateway errors adding `Recommend` (upstream-api.md,
 * "Wire protocol" and "Error codes of the two actions"). Messages follow the cloud's wording.
 */
export class OpenApiFault extends Error {
  override name = 'OpenApiFault';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Raised by the API gateway (signature, AccessKey) rather than by onsmqtt: adds `Recommend`. */
    readonly fromGateway = false,
  ) {
    super(message);
  }
}

export const faults = {
  // Gateway: the request's identity and signature.
  incompleteSignature: (why: string) =>
    new OpenApiFault(400, 'IncompleteSignature', `The request signature does not conform to Aliyun standards: ${why}`, true),
  accessKeyNotFound: () => new OpenApiFault(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.', true),
  timestampFormat: (name: string) =>
    new OpenApiFault(400, 'InvalidTimeStamp.Format', `Specified time stamp or date value is not well formatted (${name}).`, true),
  timestampExpired: () =>
    new OpenApiFault(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired (more than 15 minutes off).', true),
  signatureMismatch: (detail: string) =>
    new OpenApiFault(400, 'SignatureDoesNotMatch', `Specified signature does not match our calculation. ${detail}`, true),
  nonceUsed: () => new OpenApiFault(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.', true),
  apiNotSupported: (what: string) => new OpenApiFault(404, 'ApiNotSupport', `The API is not supported: ${what}.`, true),
  invalidVersion: () => new OpenApiFault(400, 'InvalidVersion', 'Specified parameter Version is not valid.', true),
  // onsmqtt: the action's own checks.
  parameterCheckFailed: (why: string) => new OpenApiFault(400, 'ParameterCheckFailed', `Parameter check failed: ${why}`),
  instancePermission: () =>
    new OpenApiFault(400, 'InstancePermissionCheckFailed', 'The instance does not exist or you are not authorized to access it.'),
  systemOverFlow: () => new OpenApiFault(500, 'SystemOverFlow', 'The system is overloaded, please try again later.'),
  internalError: () =>
    new OpenApiFault(500, 'InternalError', 'The request processing has failed due to some unknown error, exception or failure. Please try again later.'),
};

/** The JSON body of an error answer. */
export function faultBody(fault: OpenApiFault, requestId: string, hostId: string): Record<string, string> {
  return {
    RequestId: requestId,
    HostId: hostId,
    Code: fault.code,
    Message: fault.message,
    ...(fault.fromGateway && { Recommend: `https://api.aliyun.com/troubleshoot?q=${fault.code}&product=OnsMqtt` }),
  };
}
