/**
 * `npm run local-instance`: the local instance alone (embedded MQTT broker and OpenAPI emulator), so
 * several service replicas, the `mqtt` CLI or the device simulator can share it. Prints where it is and
 * the fixed local development credentials: printing them is intended, they are not secrets.
 */
import { loadLocalInstanceConfig, loadLocalInstancesConfig, type LocalInstancesConfig } from '../config';
import { routeConsoleToLogger } from '../common/console-lines';
import { createLogger, logDestination, prettyLogs, type Logger } from '../common/logger';
import { logStartFailure } from '../common/start-errors';
import { startLocalInstance } from './local-instance';
import { startLocalInstances } from './local-instances';
import { recordLocalInstance } from './runtime-file';

/** What two replicas of one account set besides the one-service command (docs/operations.md, several replicas). */
const REPLICAS_ENV = 'REDIS_URL=redis://127.0.0.1:6379 UPSTREAM_REPLICAS=2';

async function main(): Promise<void> {
  const config = loadLocalInstanceConfig();
  // The service's logger and format (LOG_FORMAT), named local-instance; synchronous, so log lines and
  // the summary below come out in order.
  const logger = createLogger(config.logLevel, logDestination(config.logFormat), 'local-instance');
  routeConsoleToLogger(logger);
  // For a person: beside pretty lines on stdout; on stderr when stdout carries JSON lines for a collector.
  const summary = prettyLogs(config.logFormat) ? process.stdout : process.stderr;
  const several = loadLocalInstancesConfig();
  if (several) return mainOfSeveral(several, logger, summary);
  const local = await startLocalInstance(config, logger).catch((error: unknown) => failedToStart(logger, error));
  const forgetRuntimeFile = await recordLocalInstance(config.runtimeFile, local, 'npm run local-instance');
  const serviceEnv = [
    `PRESENCE_SOURCE=alibaba ONSMQTT_ENDPOINT=${local.endpoint} MQTT_INSTANCE_ID=${local.instanceId} ALLOW_ANONYMOUS=true`,
    `ALIBABA_CLOUD_ACCESS_KEY_ID=${local.accessKeyId} ALIBABA_CLOUD_ACCESS_KEY_SECRET=${local.accessKeySecret}`,
  ].join(' \\\n  ');
  summary.write(
    [
      '',
      'Local ApsaraMQ for MQTT instance',
      `  OpenAPI endpoint   ${local.endpoint}`,
      `  MQTT URL           ${local.mqttUrl}`,
      `  Instance ID        ${local.instanceId}`,
      `  AccessKey ID       ${local.accessKeyId}`,
      `  AccessKey secret   ${local.accessKeySecret}   (fixed local development value)`,
      `  Demo devices       ${local.demoDevices.join(', ') || 'none'}`,
      '',
      'Point a service at it with (anonymous callers on this machine; AUTH_MODE instead of ALLOW_ANONYMOUS to require keys):',
      `  ${serviceEnv} npm start`,
      '',
      'Or two replicas sharing one Redis (the QPS budget, the cache, persisted queries), each in its own terminal:',
      `  ${serviceEnv} ${REPLICAS_ENV} PORT=4000 npm start`,
      `  ${serviceEnv} ${REPLICAS_ENV} PORT=4001 node dist/src/main.js`,
      "  (the second without npm start: the first one's build is what it runs; Redis at 127.0.0.1:6379, or change REDIS_URL)",
      '',
      `Connect devices with: npm run devices -- --count 5   (it finds this instance through ${config.runtimeFile ?? 'LOCAL_RUNTIME_FILE'})`,
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  stopOnSignal({ stop: () => forgetRuntimeFile().then(() => local.stop()) }, logger);
}

/** INSTANCES_FILE: every instance of the catalogue, each account with its own emulator limits (docs/instances.md). */
async function mainOfSeveral(config: LocalInstancesConfig, logger: Logger, summary: NodeJS.WritableStream): Promise<void> {
  const locals = await startLocalInstances(config, logger).catch((error: unknown) => failedToStart(logger, error));
  const lines = ['', `Local ApsaraMQ for MQTT instances of ${config.file}`];
  for (const account of locals.accounts) {
    lines.push(`  account ${account.name} (emulator limits ${account.batchQps} batch / ${account.exactQps} exact calls per second, shared by its instances)`);
    for (const local of account.instances) lines.push(`    ${local.instanceId}  OpenAPI ${local.endpoint}  MQTT ${local.mqttUrl}  demo devices ${local.demoDevices.join(', ') || 'none'}`);
  }
  if (locals.amqpAuthUrl) lines.push(`  RabbitMQ auth backend: bash scripts/prepare-rabbitmq.sh ${locals.amqpAuthUrl}`);
  lines.push(
    '',
    'Point a service at them with the same file and variables: PRESENCE_SOURCE=alibaba INSTANCES_FILE=... ALLOW_ANONYMOUS=true npm start',
    'Connect devices to an instance with: npm run devices -- --url <its MQTT URL above>',
    'Ctrl-C stops them.',
    '',
  );
  summary.write(lines.join('\n'));
  stopOnSignal(locals, logger);
}

function failedToStart(logger: Logger, error: unknown): never {
  logStartFailure(logger, error);
  process.exit(1);
}

function stopOnSignal(local: { stop(): Promise<void> }, logger: Logger): void {
  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'stopping the local instance');
    local.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'the local instance did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`local instance failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
