/** The embedded local instance (PRESENCE_SOURCE=local, the default): broker, emulator and its identity. */
import { amqpUrl, integer, text, type Env } from './env';

/** Fixed development identity of the local instance: not secrets, printed by `npm run local-instance`. */
export const LOCAL_DEFAULTS = Object.freeze({
  instanceId: 'mqtt-local-dev',
  accessKeyId: 'LTAIlocaldevkey0001',
  accessKeySecret: 'local-dev-secret-not-for-production',
});

export interface LocalInstanceConfig {
  instanceId: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Host the embedded broker and emulator listen on. */
  host: string;
  /** TCP port of the embedded MQTT broker; when taken, a free port is used and said. */
  mqttPort: number;
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
