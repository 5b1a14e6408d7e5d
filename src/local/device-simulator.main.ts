/**
 * `npm run devices [-- --count N] [--url mqtt://127.0.0.1:PORT] [--group GID_demo] [--prefix sim-] [--flap-ms N]`:
 * simulated devices as real MQTT connections to the running local instance's broker (found through
 * LOCAL_RUNTIME_FILE, which `npm start` and `npm run local-instance` write), or to any broker with
 * --url, until Ctrl-C. With no options, GID_demo@@@sim-1 … sim-3: what GraphiQL's subscription tab watches. The
 * local instance's demo devices' IDs are never used (their sessions would be taken over): numbering
 * skips them.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadLocalInstanceConfig } from '../config';
import { startSimulatedDevices } from './device-simulator';
import { findRunningInstance } from './runtime-file';
import { DEMO_DEVICES, numberedClientIds, SIMULATOR_DEFAULTS } from './device-simulator-defaults';

const USAGE = `usage: npm run devices [-- --count N (${SIMULATOR_DEFAULTS.count})] [--url mqtt://127.0.0.1:PORT] [--group ${SIMULATOR_DEFAULTS.groupId}] [--prefix ${SIMULATOR_DEFAULTS.prefix}] [--flap-ms N]`;

async function main(): Promise<void> {
  const { values } = parseCommandLine({
    options: {
      count: { type: 'string', default: String(SIMULATOR_DEFAULTS.count) },
      url: { type: 'string' },
      group: { type: 'string', default: SIMULATOR_DEFAULTS.groupId },
      // Not the demo devices' `device-`: a second client with the same ID would take over their sessions.
      prefix: { type: 'string', default: SIMULATOR_DEFAULTS.prefix },
      'flap-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const local = loadLocalInstanceConfig();
  // No --url: the running local instance's broker, wherever it listens (never whatever holds 1883:
  // Mosquitto there would accept the devices while the service reports them offline).
  const running = values.url === undefined ? await findRunningInstance(local.runtimeFile!) : undefined;
  const url = values.url ?? running!.mqttUrl;
  if (running) process.stderr.write(`the local instance of ${running.runBy} (process ${running.pid}${running.graphqlUrl ? `, ${running.graphqlUrl}` : ''}) listens on ${url}\n`);
  // The local instance's demo devices (as it recorded them, or LOCAL_DEMO_DEVICES as this process reads it): their IDs are taken.
  const taken = new Set(running?.demoDevices ?? numberedClientIds(DEMO_DEVICES.groupId, DEMO_DEVICES.prefix, local.demoDevices));
  const devices = await startSimulatedDevices({
    taken,
    url,
    count: wholeNumber('--count', values.count!),
    groupId: values.group,
    prefix: values.prefix,
    flapMs: values['flap-ms'] === undefined ? undefined : wholeNumber('--flap-ms', values['flap-ms']),
  });
  const skipped = numberedClientIds(values.group!, values.prefix!, wholeNumber('--count', values.count!)).filter((id) => taken.has(id));
  if (skipped.length > 0) {
    process.stderr.write(`${skipped.join(', ')} ${skipped.length === 1 ? 'is a demo device' : 'are demo devices'} of the local instance (LOCAL_DEMO_DEVICES): numbered past ${skipped.length === 1 ? 'it' : 'them'} instead, so no session is taken over\n`);
  }
  process.stdout.write(`${devices.clientIds.length} device${devices.clientIds.length === 1 ? '' : 's'} connected to ${url}${values['flap-ms'] ? `, flapping every ${values['flap-ms']} ms` : ''}:\n`);
  process.stdout.write(`${devices.clientIds.map((id) => `  ${id}`).join('\n')}\nCtrl-C disconnects them.\n`);

  const stop = (): void => {
    devices.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** parseArgs, with the usage line added to its errors. */
function parseCommandLine<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  }
}

function wholeNumber(flag: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${flag} must be a whole number; got ${JSON.stringify(raw)}\n${USAGE}`);
  return value;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
