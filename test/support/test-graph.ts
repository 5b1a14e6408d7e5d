import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config';
import type { EmulatorCall } from '../../src/local/openapi-emulator';
import { startPresenceGraph, type RunningPresenceGraph } from '../../src/presence-graph';
import { createLogger } from '../../src/common/logger';
import { SessionAction } from '../../src/presence/session-api';

export interface TestGraph extends RunningPresenceGraph {
  /** Every log line the service wrote, as text (for "no secret in the logs" checks). */
  logs: string[];
  /** Upstream calls the local instance's emulator received for one action. */
  upstreamCalls(action: SessionAction): EmulatorCall[];
}

/**
 * The whole service as users run it (`startPresenceGraph`, the composition root), on the embedded
 * local instance, every port picked free. Environment overrides are plain strings, as in production.
 */
export async function startTestGraph(env: Record<string, string> = {}): Promise<TestGraph> {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOCAL_MQTT_PORT: '0',
    LOCAL_DEMO_DEVICES: '0',
    LOCAL_BATCH_LAG_MS: '0',
    PRESENCE_CACHE_TTL_MS: '0',
    LOG_LEVEL: 'debug',
    // Production serves the operator endpoints on OPS_PORT (9464 by default): a free one here.
    ...(env.NODE_ENV === 'production' && { OPS_PORT: '0' }),
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const running = await startPresenceGraph(config, createLogger(config.logLevel, sink));
  return {
    ...running,
    logs,
    upstreamCalls: (action) => running.local!.emulator.calls.filter((call) => call.action === action),
  };
}

/**
 * For suites that count BatchQuerySessionByClientIds calls, or read sources BATCH, CACHE and STALE,
 * on the local default: with status notices on (the local default), a device the broker has seen
 * is answered from the presence table (source EVENTS) with no call at all. These suites prove the
 * batch path itself; test/integration/status-notices/ counts what the notices save.
 */
export const BATCH_PATH_ONLY = Object.freeze({ STATUS_NOTICES: 'off' });

export { SessionAction };
