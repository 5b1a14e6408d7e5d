import { connectAsync } from 'mqtt';
import { LOCAL_DEFAULTS, type LocalInstanceConfig } from '../../../src/config';
import { startLocalInstance, type LocalInstance } from '../../../src/local/local-instance';
import { SessionAction } from '../../../src/presence/session-api';
import { callAction, sdkClient } from './openapi-sdk';

describe('local instance', () => {
  const config: LocalInstanceConfig = { ...LOCAL_DEFAULTS, host: '127.0.0.1', mqttPort: 0, openApiPort: 0, batchLagMs: 0, demoDevices: 2 };
  let local: LocalInstance;
  beforeAll(async () => {
    local = await startLocalInstance(config);
  });
  afterAll(async () => {
    await local?.stop();
  });

  const batch = async (clientIds: readonly string[]) => {
    const sdk = sdkClient(local.endpoint, local);
    const body = await callAction(sdk, SessionAction.Batch, { InstanceId: local.instanceId, ClientIdList: [...clientIds] });
    return new Map<string, boolean>(body.OnlineStatusList.map((s: { ClientId: string; OnlineStatus: boolean }) => [s.ClientId, s.OnlineStatus]));
  };

  it('starts with its demo devices connected and online through the OpenAPI emulator', async () => {
    expect(local.demoDevices).toEqual(['GID_demo@@@device-1', 'GID_demo@@@device-2']);
    expect(await batch(local.demoDevices)).toEqual(new Map(local.demoDevices.map((id) => [id, true])));
    expect(local).toMatchObject({ instanceId: LOCAL_DEFAULTS.instanceId, accessKeyId: LOCAL_DEFAULTS.accessKeyId });
    expect(local.mqttUrl).toBe(`mqtt://127.0.0.1:${local.broker.port}`);
  });

  it('starts once its demo devices read online in the lagging batch answer, not only in the exact one', async () => {
    const lagging = await startLocalInstance({ ...config, batchLagMs: 400 });
    try {
      const sdk = sdkClient(lagging.endpoint, lagging);
      const body = await callAction(sdk, SessionAction.Batch, { InstanceId: lagging.instanceId, ClientIdList: [...lagging.demoDevices] });
      expect(body.OnlineStatusList.map((s: { OnlineStatus: boolean }) => s.OnlineStatus)).toEqual([true, true]);
    } finally {
      await lagging.stop();
    }
  });

  it('shows a real MQTT client connecting to mqttUrl as online, exactly and in batches', async () => {
    const clientId = 'GID_visitor@@@phone-1';
    const client = await connectAsync(local.mqttUrl, { clientId, reconnectPeriod: 0 }, false);
    try {
      const sdk = sdkClient(local.endpoint, local, 'v2');
      expect(await callAction(sdk, SessionAction.Exact, { InstanceId: local.instanceId, ClientId: clientId })).toMatchObject({ OnlineStatus: true });
      expect((await batch([clientId, 'GID_visitor@@@phone-2'])).get(clientId)).toBe(true);
    } finally {
      await client.endAsync();
    }
  });

  it('stops cleanly: devices disconnected, broker and emulator closed, stop() idempotent', async () => {
    const own = await startLocalInstance(config);
    expect(own.sessions.onlineClientIds()).toHaveLength(2);
    await Promise.all([own.stop(), own.stop()]);
    expect(own.sessions.onlineClientIds()).toEqual([]);
    await expect(fetch(own.endpoint, { method: 'POST' })).rejects.toThrow();
    await expect(connectAsync(own.mqttUrl, { clientId: 'GID_late@@@x', reconnectPeriod: 0, connectTimeout: 1000 }, false)).rejects.toThrow();
  });
});
