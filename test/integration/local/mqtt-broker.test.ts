import { connectAsync, type MqttClient } from 'mqtt';
import { connect as netConnect, createServer, type Server } from 'node:net';
import { StartError } from '../../../src/common/start-errors';
import { LiveSessions } from '../../../src/local/live-sessions';
import type { LocalLogger } from '../../../src/local/logger';
import { startMqttBroker, type MqttBroker } from '../../../src/local/mqtt-broker';
import { freePort } from '../../support/redis';

/** Resolves at the next time `clientId` turns `online`; subscribe before acting. */
function nextChange(sessions: LiveSessions, clientId: string, online: boolean): Promise<void> {
  return new Promise((resolve) => {
    const listener = (change: { clientId: string; online: boolean }) => {
      if (change.clientId !== clientId || change.online !== online) return;
      sessions.off('change', listener);
      resolve();
    };
    sessions.on('change', listener);
  });
}

const connect = (url: string, clientId: string): Promise<MqttClient> => connectAsync(url, { clientId, reconnectPeriod: 0 }, false);

describe('embedded MQTT broker', () => {
  const sessions = new LiveSessions();
  let broker: MqttBroker;
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    broker = await startMqttBroker({ host: '127.0.0.1', port: 0, sessions });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await broker.close();
  });

  it('reports a client online as soon as its CONNACK arrives, and offline when it disconnects', async () => {
    const clientId = 'GID_test@@@device-1';
    const client = await connect(broker.url, clientId);
    clients.push(client);
    expect(sessions.isOnline(clientId)).toBe(true);

    const offline = nextChange(sessions, clientId, false);
    await client.endAsync();
    await offline;
    expect(sessions.isOnline(clientId)).toBe(false);
  });

  it('refuses a Client ID that is not <GroupID>@@@<DeviceID> with CONNACK "identifier rejected", like ApsaraMQ for MQTT', async () => {
    await expect(connect(broker.url, 'mqttjs_plain')).rejects.toThrow(/Identifier rejected/i);
    expect(sessions.isOnline('mqttjs_plain')).toBe(false);
  });

  it('accepts Client IDs of up to 64 characters, beyond MQTT 3.1\'s 23', async () => {
    const clientId = `GID_test@@@${'d'.repeat(64 - 'GID_test@@@'.length)}`;
    const client = await connectAsync(broker.url, { clientId, reconnectPeriod: 0, protocolVersion: 3, protocolId: 'MQIsdp' }, false);
    clients.push(client);
    expect(sessions.isOnline(clientId)).toBe(true);
  });

  it('keeps a Client ID online through a session takeover [MQTT-3.1.4-2] until the newer connection closes', async () => {
    const clientId = 'GID_test@@@taken-over';
    const first = await connect(broker.url, clientId);
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    const second = await connect(broker.url, clientId);
    clients.push(first, second);
    await firstClosed;
    expect(sessions.isOnline(clientId)).toBe(true);

    const offline = nextChange(sessions, clientId, false);
    await second.endAsync();
    await offline;
    expect(sessions.isOnline(clientId)).toBe(false);
  });

  /** A listener holding a free port of 127.0.0.1, as Mosquitto holds 1883 on a developer's machine. */
  async function occupied(): Promise<{ port: number; close: () => Promise<void> }> {
    const occupier: Server = createServer();
    await new Promise<void>((resolve) => occupier.listen(0, '127.0.0.1', resolve));
    return { port: (occupier.address() as { port: number }).port, close: () => new Promise((resolve) => occupier.close(() => resolve())) };
  }

  function warningsInto(warnings: string[]): LocalLogger {
    return { info: () => undefined, warn: (...args: unknown[]) => void warnings.push(JSON.stringify(args)) };
  }

  it('listens on the fixed fallback port when the requested one is taken, the same one at every start, and says so', async () => {
    const taken = await occupied();
    const fallbackPort = await freePort();
    const warnings: string[] = [];
    try {
      for (let start = 0; start < 2; start++) {
        const fallback = await startMqttBroker({ host: '127.0.0.1', port: taken.port, fallbackPort, sessions: new LiveSessions(), logger: warningsInto(warnings) });
        await fallback.close();
        expect(fallback).toMatchObject({ requestedPort: taken.port, port: fallbackPort, url: `mqtt://127.0.0.1:${fallbackPort}` });
      }
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toContain(`MQTT port ${taken.port} is taken (another broker?): listening on ${fallbackPort}, the fixed fallback; LOCAL_MQTT_PORT chooses another`);
    } finally {
      await taken.close();
    }
  });

  it('takes a free port, warning that it changes at every start, only when the fallback is taken too', async () => {
    const [taken, alsoTaken] = [await occupied(), await occupied()];
    const warnings: string[] = [];
    try {
      const broker = await startMqttBroker({ host: '127.0.0.1', port: taken.port, fallbackPort: alsoTaken.port, sessions: new LiveSessions(), logger: warningsInto(warnings) });
      await broker.close();
      expect([taken.port, alsoTaken.port]).not.toContain(broker.port);
      expect(warnings.join('')).toContain(`MQTT ports ${taken.port} and ${alsoTaken.port} are both taken: listening on ${broker.port}, which changes at every start; set LOCAL_MQTT_PORT to a free port to keep it`);
    } finally {
      await Promise.all([taken.close(), alsoTaken.close()]);
    }
  });

  it('refuses to start on a port given explicitly (no fallback) that is taken, naming the setting', async () => {
    const taken = await occupied();
    try {
      const starting = startMqttBroker({ host: '127.0.0.1', port: taken.port, sessions: new LiveSessions() });
      await expect(starting).rejects.toBeInstanceOf(StartError);
      await expect(starting).rejects.toMatchObject({
        setting: 'LOCAL_MQTT_PORT',
        message: `LOCAL_MQTT_PORT=${taken.port}: port ${taken.port} on 127.0.0.1 is already in use by another process; set LOCAL_MQTT_PORT to a free port (0 picks one), or stop what holds it`,
      });
    } finally {
      await taken.close();
    }
  });

  it('closes every connection promptly on close(), those that never sent CONNECT included, reporting each session offline', async () => {
    const own = new LiveSessions();
    const closing = await startMqttBroker({ host: '127.0.0.1', port: 0, sessions: own });
    const client = await connect(closing.url, 'GID_test@@@until-close');
    const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const silent = netConnect(closing.port, '127.0.0.1');
    await new Promise((resolve) => silent.once('connect', resolve));
    const silentClosed = new Promise((resolve) => silent.once('close', resolve));

    await closing.close();
    await Promise.all([clientClosed, silentClosed]);
    expect(own.onlineClientIds()).toEqual([]);
    await client.endAsync(true);
  });
});
