/**
 * Entry point: loadConfig() → the presence source (the embedded local instance by default, or
 * Alibaba Cloud) → the service → listen. SIGTERM/SIGINT drain running requests, then stop.
 */
import './common/compile-cache';
import 'reflect-metadata';
import { ConfigError, loadConfig } from './config';
import { routeConsoleToLogger } from './common/console-lines';
import { createLogger, logDestination } from './common/logger';
import { logStartFailure } from './common/start-errors';
import { recordLocalInstance } from './local/runtime-file';
import { startPresenceGraph } from './presence-graph';
import { redisConsoleWarning } from './redis/redis-failure';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`presence-graph: configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, logDestination(config.logFormat));
  routeConsoleToLogger(logger, redisConsoleWarning);
  let running;
  try {
    running = await startPresenceGraph(config, logger);
  } catch (error) {
    // Everything started is stopped by now (startPresenceGraph cleans up): say why, naming the setting.
    logStartFailure(logger, error);
    process.exit(1);
  }
  const { local } = running;
  const forgetRuntimeFile = local ? await recordLocalInstance(config.local.runtimeFile, local, 'npm start', running.url) : async () => undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining: no new requests, letting running ones finish');
    try {
      await forgetRuntimeFile();
      await running.stop();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error while stopping');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  console.error('presence-graph: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
