import { startSimulatedDevices } from '../../../src/local/device-simulator';
import { LiveSessions, type SessionChange } from '../../../src/local/live-sessions';
import { startMqttBroker, type MqttBroker } from '../../../src/local/mqtt-broker';

/** Resolves with the first `count` changes that match; subscribe before acting. */
function changes(sessions: LiveSessions, count: number, match: (change: SessionChange) => boolean): Promise<SessionChange[]> {
  return new Promise((resolve) => {
    const seen: SessionChange[] = [];
    const listener = (change: SessionChange) => {
      if (!match(change)) return;
      seen.push(change);
      if (seen.length < count) return;
      sessions.off('change', listener);
      resolve(seen);
    };
    sessions.on('change', listener);
  });
}

describe('simulated devices', () => {
  const sessions = new LiveSessions();
  let broker: MqttBroker;
  beforeAll(async () => {
    broker = await startMqttBroker({ host: '127.0.0.1', port: 0, sessions });
  });
  afterAll(async () => {
    await broker.close();
  });

  it('connects every device before resolving and disconnects them all on stop()', async () => {
    const devices = await startSimulatedDevices({ url: broker.url, count: 3, groupId: 'GID_sim', prefix: 'meter-' });
    expect(devices.clientIds).toEqual(['GID_sim@@@meter-1', 'GID_sim@@@meter-2', 'GID_sim@@@meter-3']);
    expect(devices.clientIds.every((id) => sessions.isOnline(id))).toBe(true);

    const offline = changes(sessions, 3, (change) => change.clientId.startsWith('GID_sim@@@') && !change.online);
    await devices.stop();
    await offline;
    expect(devices.clientIds.some((id) => sessions.isOnline(id))).toBe(false);
  });

  it('never connects with a Client ID another device already uses: the numbering skips it, so no session is taken over', async () => {
    const taken = new Set(['GID_sim@@@device-1', 'GID_sim@@@device-2']);
    const devices = await startSimulatedDevices({ url: broker.url, count: 2, groupId: 'GID_sim', prefix: 'device-', taken });
    try {
      expect(devices.clientIds).toEqual(['GID_sim@@@device-3', 'GID_sim@@@device-4']);
      expect(devices.clientIds.every((id) => sessions.isOnline(id))).toBe(true);
      expect(sessions.isOnline('GID_sim@@@device-1')).toBe(false);
    } finally {
      await devices.stop();
    }
  });

  it('makes each device go offline and come back every flapMs', async () => {
    const devices = await startSimulatedDevices({ url: broker.url, count: 2, groupId: 'GID_flap', flapMs: 50 });
    const isFlapper = (change: SessionChange) => change.clientId.startsWith('GID_flap@@@');
    // Each device: offline, then online again, at least once.
    const flips = await changes(sessions, 8, isFlapper);
    for (const clientId of devices.clientIds) {
      const own = flips.filter((change) => change.clientId === clientId).map((change) => change.online);
      expect(own.slice(0, 2)).toEqual([false, true]);
    }
    await devices.stop();
  });

  it('refuses a group and prefix that cannot make valid Client IDs, naming them', async () => {
    await expect(startSimulatedDevices({ url: broker.url, count: 1, groupId: 'demo' })).rejects.toThrow(/groupId "demo"/);
  });

  it('fails, naming the URL, when the broker cannot be reached', async () => {
    const closed = await startMqttBroker({ host: '127.0.0.1', port: 0, sessions: new LiveSessions() });
    await closed.close();
    await expect(startSimulatedDevices({ url: closed.url, count: 2 })).rejects.toThrow(closed.url);
  });
});
