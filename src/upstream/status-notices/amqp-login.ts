import { createHmac } from 'node:crypto';
import type { AccessKeyCredential } from '../../config/upstream';

/**
 * The login of Alibaba's server-side SDK for ApsaraMQ for MQTT (repository AliwareMQ/mqtt-server-sdk),
 * which delivers client status notices over AMQP 0-9-1. Written from its Java sources and checked
 * against its Go port, which agree:
 *
 * - username: `AliyunCredentialsProvider.getUsername` → `UserUtils.getUserName`:
 *   base64("0:" + instanceId + ":" + accessKeyId), and with an STS token "…:" + securityToken.
 *   UNCONFIRMED (status-notices.md): the STS form exists only in `UserUtils`; `ChannelConfig` has no
 *   token field, `AbstractChannel` never passes one and the Go SDK (`UserUtils.go`) has no variant.
 *   A long-lived AccessKey is the documented fallback.
 * - password: `AliyunCredentialsProvider.getPassword` → `Tools.macSignature(String.valueOf(ts), secret)`:
 *   base64(HMAC-SHA1(key = accessKeySecret, message = ts)), ts in epoch milliseconds as a decimal
 *   string (Go: `GetPassword(sk, currentMillis)`).
 * - the same ts as the client property `signKey` (`AbstractChannel.start`, Go `buildAmqpConfig`),
 *   so the server need not search for it.
 * - virtual host `MQTT` (`factory.setVirtualHost("MQTT")`, Go: path `/MQTT`).
 */

/** `UserUtils.ACCESS_FROM_USER`: the first field of every username. */
export const ACCESS_FROM_USER = '0';

/** The virtual host every server-side SDK connection opens (`AbstractChannel.start`). */
export const STATUS_NOTICE_VHOST = 'MQTT';

/** The queue the SDK consumes status notices from (`ServerConsumer.subscribeStatus`). */
export const STATUS_NOTICE_QUEUE = 'STATUS';

/** The `basic.consume` argument naming the MQTT Group ID whose notices a consumer wants. */
export const GROUP_ID_ARGUMENT = 'GROUP_ID';

/** The client property carrying the ts the password signs (`AbstractChannel.start`). */
export const SIGN_KEY_PROPERTY = 'signKey';

export interface AmqpLogin {
  /** Carries the security token when there is one: never log it. */
  username: string;
  /** Never log it. */
  password: string;
  /** The signed ts as a decimal string, sent as the client property `signKey`. */
  signKey: string;
}

/**
 * The signed login for one connection at `nowMs`. Call it for every connection attempt: unlike the
 * Java SDK, which signs once at `start()` and reuses that ts for every automatic recovery, we sign
 * afresh, because how old a ts the cloud accepts is UNCONFIRMED (status-notices.md).
 */
export function amqpLogin(credential: AccessKeyCredential, instanceId: string, nowMs: number): AmqpLogin {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) throw new RangeError(`amqpLogin: nowMs must be whole epoch milliseconds; got ${String(nowMs)}`);
  for (const [name, value] of [['instanceId', instanceId], ['accessKeyId', credential.accessKeyId], ['accessKeySecret', credential.accessKeySecret]] as const) {
    if (typeof value !== 'string' || value === '') throw new TypeError(`amqpLogin: ${name} must be a non-empty string`);
  }
  // `UserUtils.getUserName` joins with ':' and never escapes: a colon inside a field would shift the
  // fields the server reads, so refuse it here rather than be refused with a vaguer ACCESS_REFUSED.
  if (instanceId.includes(':') || credential.accessKeyId.includes(':')) {
    throw new TypeError('amqpLogin: instanceId and accessKeyId must not contain ":"');
  }
  const fields = [ACCESS_FROM_USER, instanceId, credential.accessKeyId];
  // AliyunCredentialsProvider: the token is appended only when non-empty (`StringUtils.isNotEmpty`).
  if (credential.securityToken) fields.push(credential.securityToken);
  const signKey = String(nowMs);
  return {
    username: Buffer.from(fields.join(':'), 'utf8').toString('base64'),
    password: createHmac('sha1', Buffer.from(credential.accessKeySecret, 'utf8')).update(signKey, 'utf8').digest('base64'),
    signKey,
  };
}
