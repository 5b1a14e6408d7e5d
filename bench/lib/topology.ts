import { createHash, randomBytes } from 'node:crypto';
import { SessionAction } from '../../src/presence/session-api';
import type { CompactCall, LocalInstanceInfo } from '../servers/local-instance-host';
import { startServer, type ServerProcess } from './processes';
import { sleep } from './stats';

export type LocalHost = ServerProcess<LocalInstanceInfo>;
export type ServiceProcess = ServerProcess<{ url: string }>;

/** Only what a process needs from the orchestrator's environment (see StartOptions.env). */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[name]) env[name] = process.env[name]!;
  return { ...env, NODE_ENV: 'production' };
}

/** The local instance (broker and emulator) in its own process; `demoDevices` real MQTT clients online. */
export function startLocalHost(options: { demoDevices?: number; env?: Record<string, string> } = {}): Promise<LocalHost> {
  return startServer('servers/local-instance-host.js', {
    name: 'local instance',
    env: {
      ...baseEnv(),
      LOCAL_HOST: '127.0.0.1',
      LOCAL_MQTT_PORT: '0',
      LOCAL_OPENAPI_PORT: '0',
      LOCAL_BATCH_LAG_MS: '0',
      LOCAL_DEMO_DEVICES: String(options.demoDevices ?? 0),
      ...options.env,
    },
  });
}

/**
 * One service replica, configured only through its environment like a deployment, pointed at the
 * shared local instance as if it were Alibaba Cloud (`npm run local-instance` prints the same lines).
 * `script`: another build's service script (bench --compare), else this build's.
 */
export function startService(
  local: LocalHost,
  env: Record<string, string> = {},
  options: { name?: string; execArgv?: string[]; script?: string } = {},
): Promise<ServiceProcess> {
  return startServer(options.script ?? 'servers/presence-service.js', {
    name: options.name ?? 'presence service',
    execArgv: options.execArgv,
    env: {
      ...baseEnv(),
      HOST: '127.0.0.1',
      PORT: '0',
      // Production serves /metrics on a port of its own (9464 by default): a free one, as replicas run side by side.
      OPS_PORT: '0',
      LOG_LEVEL: 'warn',
      // The load comes from one anonymous caller: production refuses anonymous callers unless told,
      // and the per-caller shares (250 lookups/s, 50 operations/s) would cap the load below what is measured.
      ALLOW_ANONYMOUS: 'true',
      CALLER_LOOKUPS_PER_SECOND: '0',
      CALLER_OPERATIONS_PER_SECOND: '0',
      PRESENCE_SOURCE: 'alibaba',
      ONSMQTT_ENDPOINT: local.info.endpoint,
      MQTT_INSTANCE_ID: local.info.instanceId,
      ALIBABA_CLOUD_ACCESS_KEY_ID: local.info.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: local.info.accessKeySecret,
      ...env,
    },
  });
}

/**
 * The benchmark caller's share of operations per second (CALLER_OPERATIONS_PER_SECOND): above what one
 * replica answers on this machine, as a deployment would set it for a caller that sends this load.
 * Its lookup share stays the default (250/s): all-cached answers do not spend it.
 */
export const DEPLOYED_OPERATIONS_PER_SECOND = 50_000;

/**
 * The service as deployed: production (the topology's default), API key auth with a key scoped to the
 * local instance and the demo group, every limit and the metrics on, statuses cached for an hour (the
 * all-cached scenarios), and the caller's operation share set to fit the load. `headers` carry the key.
 */
export async function startDeployedService(
  local: LocalHost,
  options: { name?: string; execArgv?: string[]; script?: string } = {},
): Promise<ServiceProcess & { headers: Record<string, string> }> {
  const apiKey = randomBytes(24).toString('base64url');
  const sha256 = createHash('sha256').update(apiKey, 'utf8').digest('hex');
  const service = await startService(
    local,
    {
      PRESENCE_CACHE_TTL_MS: '3600000',
      ALLOW_ANONYMOUS: 'false',
      AUTH_MODE: 'apikey',
      API_KEYS: JSON.stringify([{ name: 'bench', sha256, instances: [local.info.instanceId], groups: ['GID_demo'] }]),
      CALLER_OPERATIONS_PER_SECOND: String(DEPLOYED_OPERATIONS_PER_SECOND),
      CALLER_LOOKUPS_PER_SECOND: '250',
    },
    options,
  );
  return Object.assign(service, { headers: { 'x-api-key': apiKey } });
}

/**
 * The bare Apollo Server + DataLoader baseline, with `onlineIds` online in its Map; or, given `upstream`
 * (the local instance), asking it for every key, uncached.
 */
export function startBareBaseline(
  instanceId: string,
  onlineIds: readonly string[],
  options: { execArgv?: string[]; upstream?: LocalHost } = {},
): Promise<ServiceProcess> {
  const upstream = options.upstream?.info;
  return startServer('baseline/bare-apollo.js', {
    name: upstream ? 'bare Apollo baseline (upstream)' : 'bare Apollo baseline',
    execArgv: options.execArgv,
    env: {
      ...baseEnv(),
      BENCH_INSTANCE_ID: instanceId,
      BENCH_ONLINE_IDS: onlineIds.join(','),
      ...(upstream && { BENCH_UPSTREAM_ENDPOINT: upstream.endpoint, BENCH_UPSTREAM_KEY_ID: upstream.accessKeyId, BENCH_UPSTREAM_KEY_SECRET: upstream.accessKeySecret }),
    },
  });
}

/**
 * The HTTP floor (baseline/http-floor.ts): node:http answering the same JSON with no GraphQL at all;
 * `onlineIds` answer online, as the other servers' demo devices do.
 */
export function startHttpFloor(onlineIds: readonly string[] = []): Promise<ServiceProcess> {
  return startServer('baseline/http-floor.js', { name: 'HTTP floor', env: { ...baseEnv(), BENCH_ONLINE_IDS: onlineIds.join(',') } });
}

/** Mercurius 16 on fastify 5 with its loaders (baseline/mercurius.ts), with graphql-jit (`jit: 1`) or without. */
export function startMercuriusBaseline(instanceId: string, onlineIds: readonly string[], options: { jit: boolean }): Promise<ServiceProcess> {
  return startServer('baseline/mercurius.js', {
    name: options.jit ? 'Mercurius baseline (jit)' : 'Mercurius baseline (no jit)',
    env: { ...baseEnv(), BENCH_INSTANCE_ID: instanceId, BENCH_ONLINE_IDS: onlineIds.join(','), BENCH_JIT: options.jit ? '1' : '0' },
  });
}

/**
 * Waits until the emulator has had no batch call for `quietMs` (a run's queued calls go on after its
 * clients stop), then forgets its log: the next run starts with an empty rolling second.
 */
export async function quiesce(local: LocalHost, quietMs = 1100, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastCallAt = Date.now();
  for (;;) {
    await sleep(200);
    for (const [at] of await takeBatchCalls(local)) lastCallAt = Math.max(lastCallAt, at);
    if (Date.now() - lastCallAt >= quietMs) return;
    if (Date.now() > deadline) throw new Error(`the emulator still received calls ${timeoutMs} ms after the run ended`);
  }
}

/** The batch calls the emulator received since the last take (rejected ones included), then forgets them. */
export function takeBatchCalls(local: LocalHost): Promise<CompactCall[]> {
  return local.command<CompactCall[]>('takeCalls', { action: SessionAction.Batch });
}
