import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalInstanceConfig } from '../config';
import { startAmqpAuthEndpoint, type AmqpAuthEndpoint } from './amqp-auth-endpoint';
import { startAmqpNoticePublisher } from './amqp-notice-publisher';
import { startSimulatedDevices } from './device-simulator';
import { LiveSessions } from './live-sessions';
import { silentLogger, type LocalLogger } from './logger';
import { startMqttBroker, type MqttBroker } from './mqtt-broker';
import { startOpenApiEmulator, type AccountLimiters, type OpenApiEmulator } from './openapi-emulator';
import { StatusNoticeEmitter, type LocalStatusNotices } from './status-notice-emitter';

/**
 * The local instance: what `npm start` runs when nothing is configured. An embedded MQTT broker whose
 * live sessions are the truth, an emulator of the two OpenAPI actions answering from them, and a few
 * demo devices so a fresh start has something to show. One per process, shared by every request.
 */
export interface LocalInstance {
  sessions: LiveSessions;
  broker: MqttBroker;
  emulator: OpenApiEmulator;
  /** The OpenAPI endpoint, e.g. http://127.0.0.1:38211 (ONSMQTT_ENDPOINT for a service). */
  endpoint: string;
  /** Where devices connect, e.g. mqtt://127.0.0.1:1883. */
  mqttUrl: string;
  instanceId: string;
  accessKeyId: string;
  /** A fixed local development value, not a secret; still, never log it. */
  accessKeySecret: string;
  /** The client status notices of the embedded broker, as the cloud sends them; in-process. */
  notices: LocalStatusNotices;
  /**
   * With LOCAL_STATUS_NOTICES_URL: where RabbitMQ's HTTP auth backend asks about signed logins
   * (scripts/prepare-rabbitmq.sh points it there), e.g. http://127.0.0.1:15680/auth.
   */
  amqpAuthUrl?: string;
  /** Client IDs of the demo devices connected at start. */
  demoDevices: readonly string[];
  /** Disconnects the demo devices, then stops the emulator and the broker. */
  stop(): Promise<void>;
}

/** `limiters`: the account's, when several local instances stand for one account (local-instances.ts). */
export async function startLocalInstance(config: LocalInstanceConfig, logger: LocalLogger = silentLogger, limiters?: AccountLimiters): Promise<LocalInstance> {
  const { instanceId, accessKeyId, accessKeySecret, host, batchLagMs } = config;
  const sessions = new LiveSessions();
  // Stopped in reverse order of start: devices first, so their clean disconnects reach the broker.
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const notices = new StatusNoticeEmitter({ logger });
    let amqpAuth: AmqpAuthEndpoint | undefined;
    if (config.noticesUrl) {
      // Publishing starts before the broker, so no notice (the demo devices' included) is missed, and
      // stops after it (stops run in reverse), so the broker's last tcpcleans go out too.
      const publisher = startAmqpNoticePublisher({ url: config.noticesUrl, queue: config.noticesQueue, logger });
      notices.subscribe((body) => publisher.publish(body));
      stops.push(() => publisher.close());
      amqpAuth = await startAmqpAuthEndpoint({ instanceId, accessKeyId, accessKeySecret, host, port: config.amqpAuthPort ?? 0, logger });
      stops.push(() => amqpAuth!.close());
    }
    const broker = await startMqttBroker({
      host,
      port: config.mqttPort,
      fallbackPort: config.mqttFallbackPort,
      sessions,
      logger,
      observe: (aedes) => notices.observe(aedes),
    });
    stops.push(() => broker.close());
    const emulator = await startOpenApiEmulator({
      host,
      port: config.openApiPort,
      instanceId,
      accessKeyId,
      accessKeySecret,
      sessions,
      batchLagMs,
      batchQps: config.batchQps,
      exactQps: config.exactQps,
      limiters,
    });
    stops.push(() => emulator.close());
    const devices = await startSimulatedDevices({ url: broker.url, count: config.demoDevices });
    stops.push(() => devices.stop());
    // The batch action answers as of batchLagMs ago, like the cloud's cache: right after they connect,
    // the demo devices would read offline there. Started once they read online, as "online at start" says.
    if (devices.clientIds.length > 0 && batchLagMs > 0) await sleep(batchLagMs);

    logger.info(
      { endpoint: emulator.endpoint, mqttUrl: broker.url, instanceId, accessKeyId, demoDevices: devices.clientIds.length, amqpAuthUrl: amqpAuth?.url },
      'local instance started (embedded MQTT broker and OpenAPI emulator)',
    );
    let stopping: Promise<void> | undefined;
    return {
      sessions,
      broker,
      emulator,
      endpoint: emulator.endpoint,
      mqttUrl: broker.url,
      instanceId,
      accessKeyId,
      accessKeySecret,
      notices,
      amqpAuthUrl: amqpAuth?.url,
      demoDevices: devices.clientIds,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
