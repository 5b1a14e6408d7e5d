import OpenApiUtil from '@alicloud/openapi-util';
import { randomUUID } from 'node:crypto';
import { LiveSessions } from '../../../src/local/live-sessions';
import { startOpenApiEmulator, type OpenApiEmulator, type OpenApiEmulatorOptions } from '../../../src/local/openapi-emulator';
import { SessionAction } from '../../../src/presence/session-api';
import { callAction, callError, sdkClient } from './openapi-sdk';

const key = { accessKeyId: 'LTAItestkey0001', accessKeySecret: 'test-secret' };
const instanceId = 'mqtt-test';
const id = (device: string) => `GID_test@@@${device}`;
const REQUEST_ID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

/** A deterministic `random`: cycles through the given draws. */
function draws(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length];
}

async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, deadlineMs = 5000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('OpenAPI emulator', () => {
  const started: OpenApiEmulator[] = [];
  const start = async (options: Partial<OpenApiEmulatorOptions> = {}) => {
    const sessions = options.sessions ?? new LiveSessions();
    const emulator = await startOpenApiEmulator({ instanceId, ...key, sessions, batchLagMs: 0, port: 0, ...options });
    started.push(emulator);
    return { emulator, sessions, sdk: sdkClient(emulator.endpoint, key), sdkV1: sdkClient(emulator.endpoint, key, 'v2') };
  };
  afterAll(async () => {
    await Promise.all(started.map((emulator) => emulator.close()));
  });

  describe('accepts what the official SDK sends', () => {
    it('answers BatchQuerySessionByClientIds signed with V3 (ACS3-HMAC-SHA256), the SDK default', async () => {
      const { emulator, sessions, sdk } = await start();
      sessions.connected(id('on'));
      const body = await callAction(sdk, SessionAction.Batch, { InstanceId: instanceId, ClientIdList: [id('on'), id('off')] });
      expect(body.RequestId).toMatch(REQUEST_ID);
      expect(new Map(body.OnlineStatusList.map((s: any) => [s.ClientId, s.OnlineStatus]))).toEqual(
        new Map([
          [id('on'), true],
          [id('off'), false],
        ]),
      );
      expect(emulator.calls).toEqual([
        expect.objectContaining({ action: SessionAction.Batch, instanceId, clientIds: [id('on'), id('off')], status: 200, code: 'ok', signatureVersion: 'v3' }),
      ]);
    });

    it('answers QuerySessionByClientId signed with V1 (HMAC-SHA1) when the SDK has signatureAlgorithm v2', async () => {
      const { emulator, sessions, sdkV1 } = await start();
      sessions.connected(id('on'));
      const body = await callAction(sdkV1, SessionAction.Exact, { InstanceId: instanceId, ClientId: id('on') });
      expect(body).toEqual({ RequestId: expect.stringMatching(REQUEST_ID), OnlineStatus: true });
      expect(emulator.calls[0]).toMatchObject({ action: SessionAction.Exact, clientIds: [id('on')], code: 'ok', signatureVersion: 'v1' });
    });

    it('answers a batch in an order of its own, each duplicate once, well-formed unknown IDs false, to be matched by ClientId', async () => {
      const { sessions, sdk } = await start({ random: draws(0.9, 0.1, 0.5, 0.3, 0.7) });
      const asked = Array.from({ length: 8 }, (_, i) => id(`d${i}`));
      sessions.connected(asked[2]);
      const body = await callAction(sdk, SessionAction.Batch, { InstanceId: instanceId, ClientIdList: [...asked, asked[0], asked[1]] });
      const answered: string[] = body.OnlineStatusList.map((s: any) => s.ClientId);
      expect([...answered].sort()).toEqual([...asked].sort());
      expect(answered).not.toEqual(asked);
      for (const status of body.OnlineStatusList) expect(status.OnlineStatus).toBe(status.ClientId === asked[2]);
    });
  });

  describe('rejects what the cloud rejects, with its codes', () => {
    it('answers a wrong AccessKey secret with 400 SignatureDoesNotMatch, for V3 and V1 alike, and records the call', async () => {
      const { emulator } = await start();
      for (const version of [undefined, 'v2'] as const) {
        const wrong = sdkClient(emulator.endpoint, { ...key, accessKeySecret: 'not-the-secret' }, version);
        const error = await callError(wrong, SessionAction.Exact, { InstanceId: instanceId, ClientId: id('a') });
        expect(error).toMatchObject({ code: 'SignatureDoesNotMatch', statusCode: 400 });
        expect(error.data).toMatchObject({ Code: 'SignatureDoesNotMatch', RequestId: expect.stringMatching(REQUEST_ID), HostId: expect.any(String) });
        expect(JSON.stringify(error.data)).not.toContain(key.accessKeySecret);
      }
      expect(emulator.calls.map((c) => [c.code, c.status, c.signatureVersion])).toEqual([
        ['SignatureDoesNotMatch', 400, 'v3'],
        ['SignatureDoesNotMatch', 400, 'v1'],
      ]);
    });

    it('answers an unknown AccessKey ID with 404 InvalidAccessKeyId.NotFound', async () => {
      const { emulator } = await start();
      const stranger = sdkClient(emulator.endpoint, { ...key, accessKeyId: 'LTAIsomeoneelse' });
      const error = await callError(stranger, SessionAction.Exact, { InstanceId: instanceId, ClientId: id('a') });
      expect(error).toMatchObject({ code: 'InvalidAccessKeyId.NotFound', statusCode: 404 });
    });

    it('answers an instance it does not serve with 400 InstancePermissionCheckFailed', async () => {
      const { sdk } = await start();
      const error = await callError(sdk, SessionAction.Batch, { InstanceId: 'mqtt-cn-someoneelse', ClientIdList: [id('a')] });
      expect(error).toMatchObject({ code: 'InstancePermissionCheckFailed', statusCode: 400 });
    });

    it('answers 11 Client IDs with 400 ParameterCheckFailed saying at most 10 (BatchQuerySessionByClientIds: at most 10 IDs per call)', async () => {
      const { sdk } = await start();
      const eleven = Array.from({ length: 11 }, (_, i) => id(`d${i}`));
      const error = await callError(sdk, SessionAction.Batch, { InstanceId: instanceId, ClientIdList: eleven });
      expect(error).toMatchObject({ code: 'ParameterCheckFailed', statusCode: 400 });
      expect(error.data.Message).toMatch(/at most 10/);
    });

    it('answers a malformed Client ID with 400 ParameterCheckFailed, in a batch or alone', async () => {
      const { sdk } = await start();
      const batch = await callError(sdk, SessionAction.Batch, { InstanceId: instanceId, ClientIdList: [id('ok'), 'no-separator'] });
      expect(batch).toMatchObject({ code: 'ParameterCheckFailed', statusCode: 400 });
      expect(batch.data.Message).toContain('ClientIdList.2');
      const exact = await callError(sdk, SessionAction.Exact, { InstanceId: instanceId, ClientId: 'GID_test@@@bad/id' });
      expect(exact).toMatchObject({ code: 'ParameterCheckFailed', statusCode: 400 });
    });

    it('answers a missing InstanceId, ClientId or ClientIdList with 400 ParameterCheckFailed', async () => {
      const { sdk } = await start();
      for (const [action, query] of [
        [SessionAction.Batch, { ClientIdList: [id('a')] }],
        [SessionAction.Batch, { InstanceId: instanceId }],
        [SessionAction.Exact, { InstanceId: instanceId }],
      ] as const) {
        expect(await callError(sdk, action, query)).toMatchObject({ code: 'ParameterCheckFailed', statusCode: 400 });
      }
    });

    it('answers an action it does not know with 404 ApiNotSupport', async () => {
      const { sdk } = await start();
      expect(await callError(sdk, 'DeleteEverything', { InstanceId: instanceId })).toMatchObject({ code: 'ApiNotSupport', statusCode: 404 });
    });

    it('answers a replayed request with SignatureNonceUsed and a stale one with InvalidTimeStamp.Expired', async () => {
      const { emulator, sessions } = await start();
      sessions.connected(id('a'));
      const signedV1 = (timestamp: string, nonce: string) => {
        const params: Record<string, string> = {
          Action: SessionAction.Exact, Version: '2020-04-20', Format: 'json', AccessKeyId: key.accessKeyId,
          SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', SignatureNonce: nonce, Timestamp: timestamp,
          InstanceId: instanceId, ClientId: id('a'),
        };
        params.Signature = OpenApiUtil.getRPCSignature(params, 'POST', key.accessKeySecret);
        return `${emulator.endpoint}/?${new URLSearchParams(params)}`;
      };
      const timestamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
      const codeOf = async (response: Response) => [response.status, ((await response.json()) as { Code?: string }).Code];
      const url = signedV1(timestamp(Date.now()), randomUUID());
      const first = await fetch(url, { method: 'POST' });
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ OnlineStatus: true });
      const replay = await fetch(url, { method: 'POST' });
      expect(await codeOf(replay)).toEqual([400, 'SignatureNonceUsed']);

      const stale = await fetch(signedV1(timestamp(Date.now() - 16 * 60_000), randomUUID()), { method: 'POST' });
      expect(await codeOf(stale)).toEqual([400, 'InvalidTimeStamp.Expired']);
    });
  });

  describe('limits and faults', () => {
    it('answers calls past the QPS limit in a rolling second with 500 SystemOverFlow, per action, counting only signature-valid calls', async () => {
      const { emulator, sdk } = await start({ batchQps: 5, exactQps: 5 });
      const forged = sdkClient(emulator.endpoint, { ...key, accessKeySecret: 'forged' });
      const query = { InstanceId: instanceId, ClientIdList: [id('a')] };
      await Promise.all(Array.from({ length: 5 }, () => callError(forged, SessionAction.Batch, query)));

      const results = await Promise.allSettled(Array.from({ length: 6 }, () => callAction(sdk, SessionAction.Batch, query)));
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatchObject({ code: 'SystemOverFlow', statusCode: 500 });
      expect(refused[0].data.Message).toMatch(/try again/);
      // QuerySessionByClientId has a budget of its own.
      await expect(callAction(sdk, SessionAction.Exact, { InstanceId: instanceId, ClientId: id('a') })).resolves.toMatchObject({ OnlineStatus: false });
      expect(emulator.calls.filter((c) => c.code === 'SystemOverFlow')).toHaveLength(1);
    });

    it('injects SystemOverFlow and InternalError at the configured rates, driven by its random source', async () => {
      const { emulator, sdk } = await start({ random: draws(0.1, 0.6, 0.9), faults: { systemOverFlowRate: 0.5, internalErrorRate: 0.25 } });
      const query = { InstanceId: instanceId, ClientId: id('a') };
      expect(await callError(sdk, SessionAction.Exact, query)).toMatchObject({ code: 'SystemOverFlow', statusCode: 500 });
      expect(await callError(sdk, SessionAction.Exact, query)).toMatchObject({ code: 'InternalError', statusCode: 500 });
      await expect(callAction(sdk, SessionAction.Exact, query)).resolves.toMatchObject({ OnlineStatus: false });

      emulator.setFaults({ systemOverFlowRate: 0, internalErrorRate: 0 });
      await expect(callAction(sdk, SessionAction.Exact, query)).resolves.toMatchObject({ OnlineStatus: false });
      expect(emulator.calls.map((c) => c.code)).toEqual(['SystemOverFlow', 'InternalError', 'ok', 'ok']);
    });

    it('adds the injected latency to every answer', async () => {
      const { emulator, sdk } = await start();
      emulator.setFaults({ latencyMs: 150 });
      const startedAt = Date.now();
      await callAction(sdk, SessionAction.Exact, { InstanceId: instanceId, ClientId: id('a') });
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
    });

    it('rejects fault rates outside 0..1, naming the option', async () => {
      const { emulator } = await start();
      expect(() => emulator.setFaults({ internalErrorRate: 2 })).toThrow(/faults\.internalErrorRate/);
      await expect(start({ batchQps: 0 })).rejects.toThrow(/batchQps/);
    });
  });

  describe('consistency', () => {
    it('answers QuerySessionByClientId exactly and BatchQuerySessionByClientIds with the state of batchLagMs ago', async () => {
      const { sessions, sdk } = await start({ batchLagMs: 300 });
      const device = id('lagging');
      sessions.connected(device, Date.now() - 1000);
      const batch = async () => (await callAction(sdk, SessionAction.Batch, { InstanceId: instanceId, ClientIdList: [device] })).OnlineStatusList[0].OnlineStatus;
      const exact = async () => (await callAction(sdk, SessionAction.Exact, { InstanceId: instanceId, ClientId: device })).OnlineStatus;
      expect([await exact(), await batch()]).toEqual([true, true]);

      const disconnectedAt = Date.now();
      sessions.disconnected(device, disconnectedAt);
      expect(await exact()).toBe(false);
      expect(await batch()).toBe(true);
      expect(await pollUntil(batch, (online) => online === false)).toBe(false);
      expect(Date.now() - disconnectedAt).toBeGreaterThanOrEqual(300);
    });
  });
});
