import { connectAsync, type MqttClient } from 'mqtt';
import { isValidClientId } from '../presence/client-id';
import { numberedClientIds } from './device-simulator-defaults';

export interface SimulatedDevicesOptions {
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883`. */
  url: string;
  /** How many devices to connect. */
  count: number;
  /** @default 'GID_demo' */
  groupId?: string;
  /** Device IDs are `<prefix>1` … `<prefix><count>`. @default 'device-' */
  prefix?: string;
  /** When set, each device toggles between connected and disconnected every `flapMs`, at a random phase. */
  flapMs?: number;
  /** @default 5000 */
  connectTimeoutMs?: number;
  /**
   * Client IDs other devices already use (the local instance's demo devices): never connected with,
   * since a second client with the same ID takes over the first one's session, and both reconnecting
   * make a takeover war. The numbering skips them: `device-4` … when `device-1` … `device-3` are taken.
   */
  taken?: ReadonlySet<string>;
}

export interface SimulatedDevices {
  /** `<groupId>@@@<prefix><n>`, in order. */
  clientIds: string[];
  /** Disconnects every device cleanly (MQTT DISCONNECT) and stops flapping. */
  stop(): Promise<void>;
}

/**
 * Simulated devices: real MQTT connections, so the broker, and through it the OpenAPI emulator, sees
 * exactly what it would see from a fleet. Resolves once every device is connected; if one cannot
 * connect, the others are disconnected and the error is thrown.
 */
export async function startSimulatedDevices(options: SimulatedDevicesOptions): Promise<SimulatedDevices> {
  const { url, count, groupId = 'GID_demo', prefix = 'device-', flapMs, connectTimeoutMs = 5000 } = options;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a whole number of at least 0; got ${count}`);
  if (flapMs !== undefined && !(Number.isInteger(flapMs) && flapMs > 0)) {
    throw new RangeError(`flapMs must be a positive whole number of milliseconds; got ${flapMs}`);
  }
  const clientIds = freeClientIds(groupId, prefix, count, options.taken ?? new Set());
  if (count > 0 && !clientIds.every(isValidClientId)) {
    throw new RangeError(
      `groupId ${JSON.stringify(groupId)} and prefix ${JSON.stringify(prefix)} do not make valid Client IDs (<GroupID>@@@<DeviceID>, at most 64 characters; e.g. GID_demo and device-)`,
    );
  }

  const settled = await Promise.allSettled(
    clientIds.map((clientId) =>
      // allowRetries false: a refused or unreachable broker rejects instead of retrying forever.
      connectAsync(url, { clientId, clean: true, connectTimeout: connectTimeoutMs, reconnectPeriod: 1000 }, false),
    ),
  );
  const clients = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) {
    await Promise.all(clients.map((client) => client.endAsync()));
    const reason = failure.reason instanceof Error ? failure.reason.message : String(failure.reason);
    throw new Error(`simulated devices could not connect to ${url}: ${reason}`);
  }

  const stopFlapping = flapMs === undefined ? [] : clients.map((client) => flap(client, flapMs));
  let stopping: Promise<void> | undefined;
  return {
    clientIds,
    stop: () =>
      (stopping ??= (async () => {
        for (const stop of stopFlapping) stop();
        await Promise.all(clients.map((client) => client.endAsync()));
      })()),
  };
}

/** `count` IDs `<groupId>@@@<prefix><n>`, n from 1, skipping the taken ones. */
export function freeClientIds(groupId: string, prefix: string, count: number, taken: ReadonlySet<string>): string[] {
  const ids: string[] = [];
  for (let n = 1; ids.length < count; n++) {
    const [id] = numberedClientIds(groupId, prefix, 1, n);
    if (!taken.has(id)) ids.push(id);
  }
  return ids;
}

/**
 * Keeps a device `flapMs` online, then `flapMs` offline, and so on, starting at a random phase so
 * devices do not flap in step. Each step is scheduled once the previous one has taken effect, so a
 * slow reconnect never overlaps the next toggle.
 */
function flap(client: MqttClient, flapMs: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (step: () => void, delayMs: number): void => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(step, delayMs);
  };
  const goOffline = (): void => void client.end(false, () => schedule(goOnline, flapMs));
  const goOnline = (): void => void client.reconnect();
  const onConnect = (): void => schedule(goOffline, flapMs);
  client.on('connect', onConnect);
  schedule(goOffline, Math.floor(Math.random() * flapMs));
  return () => {
    stopped = true;
    clearTimeout(timer);
    client.off('connect', onConnect);
  };
}
