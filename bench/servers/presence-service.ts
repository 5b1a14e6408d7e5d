/**
 * The service under test, in its own process: exactly what `npm start` runs (`loadConfig` from the
 * environment, then `startPresenceGraph`), plus the IPC commands of lib/child.ts. The orchestrator
 * points it at a shared local instance with PRESENCE_SOURCE=alibaba and ONSMQTT_ENDPOINT.
 */
import 'reflect-metadata';
import { loadConfig } from '../../src/config';
import { startPresenceGraph } from '../../src/presence-graph';
import { createLogger } from '../../src/common/logger';
import { failStart, serveCommands } from '../lib/child';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const running = await startPresenceGraph(config, createLogger(config.logLevel));
  // With PRESENCE_SOURCE=local the embedded broker's URL too: the fleet scenario connects real devices to it.
  serveCommands({ url: running.url, ...(running.local && { mqttUrl: running.local.mqttUrl }) }, {}, () => running.stop());
}

main().catch(failStart('presence service'));
