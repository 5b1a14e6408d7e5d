/**
 * Client status notices (connect, disconnect, tcpclean): the third presence source, consumed over
 * AMQP from the instance's STATUS queue (status-notices.md), or in-process from the local instance.
 */
import { amqpUrl, ConfigError, fraction, integer, oneOf, text, type Env } from './env';
import type { PresenceSource } from './upstream';

export interface StatusNoticesConfig {
  /** STATUS_NOTICES: on by default for the local instance; on Alibaba Cloud once STATUS_NOTICES_URL is set. */
  enabled: boolean;
  /** The instance's AMQP endpoint (`amqps://host:port`); the login is always the signed one, never userinfo. */
  url?: string;
  /** Group IDs to consume (one consume each, GROUP_ID argument); notices of other groups are ignored. Empty: every group (local only). */
  groups: readonly string[];
  /** A consumer disconnected longer than this loses the table's trust until notices or batch answers restore it. */
  maxGapMs: number;
  /** A batch answer never overrides a notice younger than this (the batch action answers from a lagging cache). */
  batchLagMs: number;
  /** The share of UPSTREAM_BATCH_QPS the verifier may spend re-checking the table, 0 < share ≤ 1. */
  verifyShare: number;
  /** A device is re-checked by the verifier no sooner than this after its last notice or check. */
  verifyMinAgeMs: number;
}

export function statusNoticesConfig(env: Env, source: PresenceSource, localNoticesUrl: string | undefined, catalogued = false): StatusNoticesConfig {
  const url = amqpUrl(env, 'STATUS_NOTICES_URL', { userinfo: false });
  if (catalogued) {
    // INSTANCES_FILE: each instance carries its own `statusNotices` (docs/instances.md); STATUS_NOTICES
    // only switches them all off. config/index.ts settles `enabled` once the catalogue is read.
    for (const name of ['STATUS_NOTICES_URL', 'STATUS_NOTICES_GROUPS']) {
      if (text(env, name) !== undefined) throw new ConfigError(`${name} is set but INSTANCES_FILE gives each instance its own statusNotices { url, groups }: unset ${name}`);
    }
  }
  const fallback = source === 'local' || url !== undefined || catalogued ? 'on' : 'off';
  const enabled = oneOf(env, 'STATUS_NOTICES', ['on', 'off'] as const, fallback) === 'on';
  const groups = (text(env, 'STATUS_NOTICES_GROUPS') ?? '')
    .split(',')
    .map((group) => group.trim())
    .filter((group) => group !== '');
  if (enabled && source === 'alibaba' && !catalogued && (!url || groups.length === 0)) {
    throw new ConfigError(
      'STATUS_NOTICES=on with PRESENCE_SOURCE=alibaba needs STATUS_NOTICES_URL (the instance\'s AMQP endpoint, amqps://host:port) and STATUS_NOTICES_GROUPS (the Group IDs to consume, comma-separated); or set STATUS_NOTICES=off',
    );
  }
  if (url && source === 'local' && localNoticesUrl) {
    throw new ConfigError('Set LOCAL_STATUS_NOTICES_URL or STATUS_NOTICES_URL, not both: with the local instance the service consumes from LOCAL_STATUS_NOTICES_URL');
  }
  return {
    enabled,
    url,
    groups,
    maxGapMs: integer(env, 'STATUS_NOTICES_MAX_GAP_MS', 10000, 0, 3600000),
    batchLagMs: integer(env, 'STATUS_NOTICES_BATCH_LAG_MS', 5000, 0, 600000),
    verifyShare: fraction(env, 'STATUS_NOTICES_VERIFY_SHARE', 0.1),
    verifyMinAgeMs: integer(env, 'STATUS_NOTICES_VERIFY_MIN_AGE_MS', 60000, 0, 86400000),
  };
}
