/**
 * Entry point: loadConfig() → the presence source (the embedded local instance by default, or
 * Alibaba Cloud) → the service → listen. SIGTERM/SIGINT drain running requests, then stop.
 */
import 'reflect-metadata';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './common/logger';
import { startPresenceGraph } from './presence-graph';

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
  const logger = createLogger(config.logLevel);
  const running = await startPresenceGraph(config, logger);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining: no new requests, letting running ones finish');
    try {
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
