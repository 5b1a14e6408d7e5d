/** The embedded local instance (PRESENCE_SOURCE=local, the default): broker, emulator and its identity. */
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { amqpUrl, integer, text, type Env } from './env';

/** Fixed development identity of the local instance: not secrets, printed by `npm run local-instance`. */
export const LOCAL_DEFAULTS = Object.freeze({
  instanceId: 'mqtt-local-dev',
  accessKeyId: 'LTAIlocaldevkey0001',
  accessKeySecret: 'local-dev-secret-not-for-production',
});

/**
 * Where the embedded broker listens when LOCAL_MQTT_PORT is unset and 1883 is taken (by Mosquitto,
 * say): a fixed port, so devices and `npm run devices` find it at the same place after every restart.
 */
export const LOCAL_MQTT_FALLBACK_PORT = 18830;

export interface LocalInstanceConfig {
  instanceId: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Host the embedded broker and emulator listen on. */
  host: string;
  /** TCP port of the embedded MQTT broker (LOCAL_MQTT_PORT); 0 picks a free one. */
  mqttPort: number;
  /**
   * LOCAL_MQTT_PORT unset: LOCAL_MQTT_FALLBACK_PORT, used when 1883 is taken. Unset (LOCAL_MQTT_PORT
   * given): a taken port stops the start, naming LOCAL_MQTT_PORT.
   */
  mqttFallbackPort?: number;
  /**
   * LOCAL_RUNTIME_FILE: where the process running the local instance (`npm start`, `npm run
   * local-instance`) records its addresses for `npm run devices`. Unset in a config built by hand (tests).
   */
  runtimeFile?: string;
  /** HTTP port of the OpenAPI emulator; 0 picks a free one. */
  openApiPort: number;
  /** How long BatchQuerySessionByClientIds answers lag the broker, like the cloud's internal cache. */
  batchLagMs: number;
  /** Simulated devices connected at start so a fresh `npm start` has something to show. */
  demoDevices: number;
  /** Calls per rolling second the emulator admits before SystemOverFlow, like the account, @default 100 / 500. */
  batchQps?: number;
  exactQps?: number;
  /**
   * LOCAL_STATUS_NOTICES_URL: a real AMQP broker (`amqp://guest:guest@127.0.0.1:5672`) the local
   * instance publishes its status notices to, and the service consumes them from with the signed
   * login. Unset: they reach the service in-process.
   */
  noticesUrl?: string;
  /** The queue those notices go to, @default 'STATUS' (the cloud's): local instances sharing one broker each take their own. */
  noticesQueue?: string;
  /** Port of the endpoint that checks signed AMQP logins for RabbitMQ's HTTP auth backend. */
  amqpAuthPort?: number;
}

export function localInstanceConfig(env: Env): LocalInstanceConfig {
  return {
    instanceId: text(env, 'LOCAL_INSTANCE_ID') ?? LOCAL_DEFAULTS.instanceId,
    accessKeyId: text(env, 'LOCAL_ACCESS_KEY_ID') ?? LOCAL_DEFAULTS.accessKeyId,
    accessKeySecret: text(env, 'LOCAL_ACCESS_KEY_SECRET') ?? LOCAL_DEFAULTS.accessKeySecret,
    host: text(env, 'LOCAL_HOST') ?? '127.0.0.1',
    mqttPort: integer(env, 'LOCAL_MQTT_PORT', 1883, 0, 65535),
    mqttFallbackPort: text(env, 'LOCAL_MQTT_PORT') === undefined ? LOCAL_MQTT_FALLBACK_PORT : undefined,
    runtimeFile: text(env, 'LOCAL_RUNTIME_FILE') ?? defaultRuntimeFile(),
    openApiPort: integer(env, 'LOCAL_OPENAPI_PORT', 0, 0, 65535),
    batchLagMs: integer(env, 'LOCAL_BATCH_LAG_MS', 1000, 0, 600000),
    demoDevices: integer(env, 'LOCAL_DEMO_DEVICES', 3, 0, 10000),
    batchQps: integer(env, 'LOCAL_BATCH_QPS', 100, 1, 100000),
    exactQps: integer(env, 'LOCAL_EXACT_QPS', 500, 1, 100000),
    noticesUrl: amqpUrl(env, 'LOCAL_STATUS_NOTICES_URL', { userinfo: true }),
    noticesQueue: text(env, 'LOCAL_STATUS_NOTICES_QUEUE'),
    amqpAuthPort: integer(env, 'LOCAL_AMQP_AUTH_PORT', 15680, 0, 65535),
  };
}

/** Per user, so two users of one machine do not read each other's: `<tmp>/presence-graph-<uid>/local-instance.json`. */
function defaultRuntimeFile(): string {
  return join(tmpdir(), `presence-graph-${userInfo().uid}`, 'local-instance.json');
}
