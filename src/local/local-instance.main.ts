/**
 * `npm run local-instance`: the local instance alone (embedded MQTT broker and OpenAPI emulator), so
 * several service replicas, the `mqtt` CLI or the device simulator can share it. Prints where it is and
 * the fixed local development credentials: printing them is intended, they are not secrets.
 */
import { loadLocalInstanceConfig } from '../config';
import { routeConsoleToLogger } from '../common/console-lines';
import { createLogger, logDestination, prettyLogs } from '../common/logger';
import { StartError } from '../common/start-errors';
import { startLocalInstance } from './local-instance';
import { writeRuntimeFile } from './runtime-file';

async function main(): Promise<void> {
  const config = loadLocalInstanceConfig();
  // The service's logger and format (LOG_FORMAT), named local-instance; synchronous, so log lines and
  // the summary below come out in order.
  const logger = createLogger(config.logLevel, logDestination(config.logFormat), 'local-instance');
  routeConsoleToLogger(logger);
  const local = await startLocalInstance(config, logger).catch((error: unknown) => {
    logger.fatal(error instanceof StartError ? { setting: error.setting } : { err: error }, `failed to start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
  const forgetRuntimeFile = config.runtimeFile
    ? await writeRuntimeFile(config.runtimeFile, {
        pid: process.pid,
        runBy: 'npm run local-instance',
        mqttUrl: local.mqttUrl,
        openApiEndpoint: local.endpoint,
        instanceId: local.instanceId,
        demoDevices: local.demoDevices,
        startedAt: new Date().toISOString(),
      })
    : async () => undefined;
  // For a person: beside pretty lines on stdout; on stderr when stdout carries JSON lines for a collector.
  const summary = prettyLogs(config.logFormat) ? process.stdout : process.stderr;
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
      `  PRESENCE_SOURCE=alibaba ONSMQTT_ENDPOINT=${local.endpoint} MQTT_INSTANCE_ID=${local.instanceId} ALLOW_ANONYMOUS=true \\`,
      `  ALIBABA_CLOUD_ACCESS_KEY_ID=${local.accessKeyId} ALIBABA_CLOUD_ACCESS_KEY_SECRET=${local.accessKeySecret} npm start`,
      '',
      `Connect devices with: npm run devices -- --count 5   (it finds this instance through ${config.runtimeFile ?? 'LOCAL_RUNTIME_FILE'})`,
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );

  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'stopping the local instance');
    forgetRuntimeFile()
      .then(() => local.stop())
      .then(
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
