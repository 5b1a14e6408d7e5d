import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { ConfigError, loadLocalInstancesConfig } from '../../../src/config';
import { deviceGlobalId } from '../../../src/graphql/device-id';
import { startLocalInstances, type LocalInstances } from '../../../src/local/local-instances';
import { SessionAction } from '../../../src/presence/session-api';
import { createAlibabaSessionApi } from '../../../src/upstream/alibaba-session-api';
import { graphqlWsClient, subscribe } from '../../support/graphql-ws-client';
import { freePort } from '../../support/redis';
import { startTestGraph, type TestGraph } from '../../support/test-graph';

/**
 * `npm run local-instance` with INSTANCES_FILE: the same catalogue the service reads starts a local
 * instance per catalogue instance (own broker, own sessions, own emulator at its endpoint), signing
 * with its account's AccessKey; the instances of one account share that account's emulator limits.
 */
const KEYS = { ALPHA_AK_ID: 'LTAIalphakey0001', ALPHA_AK_SECRET: 'alpha-secret-4f1c', BETA_AK_ID: 'LTAIbetakey00001', BETA_AK_SECRET: 'beta-secret-9a2e' };
const ALPHA_QPS = 4;

describe('local instances of INSTANCES_FILE, two accounts', () => {
  let directory: string;
  let file: string;
  let locals: LocalInstances;
  let graph: TestGraph | undefined;
  const devices: mqtt.MqttClient[] = [];
  const instance = (id: string) => locals.accounts.flatMap((account) => account.instances).find((local) => local.instanceId === id)!;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'local-instances-'));
    file = join(directory, 'instances.json');
    const [a1, a2, b1] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(
      file,
      JSON.stringify({
        accounts: {
          alpha: { accessKeyIdEnv: 'ALPHA_AK_ID', accessKeySecretEnv: 'ALPHA_AK_SECRET', batchQps: ALPHA_QPS },
          beta: { accessKeyIdEnv: 'BETA_AK_ID', accessKeySecretEnv: 'BETA_AK_SECRET' },
        },
        instances: {
          'post-cn-alpha01': { account: 'alpha', endpoint: `http://127.0.0.1:${a1}` },
          'post-cn-alpha02': { account: 'alpha', endpoint: `http://127.0.0.1:${a2}` },
          'post-cn-beta0001': { account: 'beta', endpoint: `http://127.0.0.1:${b1}` },
        },
      }),
    );
    locals = await startLocalInstances(loadLocalInstancesConfig({ INSTANCES_FILE: file, LOCAL_DEMO_DEVICES: '0', LOCAL_BATCH_LAG_MS: '0', ...KEYS })!);
  });
  afterAll(async () => {
    for (const device of devices) await device.endAsync();
    await graph?.stop();
    await locals?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('starts each instance at its endpoint with its own broker, the instances of one account sharing its emulator limits', async () => {
    expect(locals.accounts.map((account) => [account.name, account.batchQps, account.instances.map((local) => local.instanceId)])).toEqual([
      ['alpha', ALPHA_QPS, ['post-cn-alpha01', 'post-cn-alpha02']],
      ['beta', 100, ['post-cn-beta0001']],
    ]);
    const brokers = new Set(locals.accounts.flatMap((account) => account.instances.map((local) => local.mqttUrl)));
    expect(brokers.size).toBe(3);

    // Three batch calls on each of alpha's instances at once: 4 admitted between them, as one account.
    const call = (id: string, key: 'ALPHA' | 'BETA') =>
      createAlibabaSessionApi({ endpoint: instance(id).endpoint, connectTimeoutMs: 2000, readTimeoutMs: 2000, credential: { accessKeyId: KEYS[`${key}_AK_ID`], accessKeySecret: KEYS[`${key}_AK_SECRET`] } })
        .batchQuerySessions(id, ['GID_fleet@@@x']);
    await Promise.allSettled([...Array(3).keys()].flatMap(() => [call('post-cn-alpha01', 'ALPHA'), call('post-cn-alpha02', 'ALPHA'), call('post-cn-beta0001', 'BETA')]));
    const codes = (id: string) => instance(id).emulator.calls.filter((entry) => entry.action === SessionAction.Batch).map((entry) => entry.code);
    const alphaCodes = [...codes('post-cn-alpha01'), ...codes('post-cn-alpha02')];
    expect(alphaCodes.filter((code) => code === 'ok')).toHaveLength(ALPHA_QPS);
    expect(alphaCodes.filter((code) => code === 'SystemOverFlow')).toHaveLength(6 - ALPHA_QPS);
    // Beta's account is untouched by alpha's.
    expect(codes('post-cn-beta0001')).toEqual(['ok', 'ok', 'ok']);
    // Each emulator signs with its account's key only: beta's key on alpha's instance is refused.
    await expect(
      createAlibabaSessionApi({ endpoint: instance('post-cn-alpha01').endpoint, connectTimeoutMs: 2000, readTimeoutMs: 2000, credential: { accessKeyId: KEYS.BETA_AK_ID, accessKeySecret: KEYS.BETA_AK_SECRET } }).batchQuerySessions('post-cn-alpha01', ['GID_fleet@@@x']),
    ).rejects.toThrow();
  });

  it('serves a service started with the same file: one presenceChanged over devices of both accounts, polled, sees each connect', async () => {
    graph = await startTestGraph({ PRESENCE_SOURCE: 'alibaba', ALLOW_ANONYMOUS: 'true', INSTANCES_FILE: file, SUBSCRIPTION_POLL_INTERVAL_MS: '200', ...KEYS });
    const keys = ['post-cn-alpha02', 'post-cn-beta0001'].map((instanceId) => ({ instanceId, clientId: `GID_fleet@@@polled-${instanceId}` }));
    const client = graphqlWsClient(graph.url);
    const subscription = subscribe<{ presenceChanged: { online: boolean; initial: boolean; device: { instanceId: string } } }, { ids: string[] }>(
      client,
      'subscription($ids: [ID!]!) { presenceChanged(ids: $ids) { online initial device { instanceId } } }',
      { ids: keys.map(deviceGlobalId) },
    );
    for (let i = 0; i < keys.length; i++) expect((await subscription.next('the current statuses', 10_000)).data!.presenceChanged).toMatchObject({ online: false, initial: true });
    for (const key of keys) devices.push(await mqtt.connectAsync(instance(key.instanceId).mqttUrl, { clientId: key.clientId, reconnectPeriod: 0 }));
    const seen = new Set<string>();
    while (seen.size < keys.length) {
      const event = (await subscription.next(`the connects, polled (seen: ${[...seen].join(', ') || 'none'})`, 10_000)).data!.presenceChanged;
      expect(event).toMatchObject({ online: true, initial: false });
      seen.add(event.device.instanceId);
    }
    subscription.unsubscribe();
    await client.dispose();
  });

  it('refuses a catalogue it cannot emulate, naming the file, the entry and the field', () => {
    const bad = join(directory, 'bad.json');
    writeFileSync(bad, JSON.stringify({ accounts: { alpha: { accessKeyIdEnv: 'ALPHA_AK_ID', accessKeySecretEnv: 'ALPHA_AK_SECRET' } }, instances: { 'post-cn-x': { account: 'alpha', regionId: 'cn-hangzhou' } } }));
    expect(() => loadLocalInstancesConfig({ INSTANCES_FILE: bad, ...KEYS })).toThrow(ConfigError);
    expect(() => loadLocalInstancesConfig({ INSTANCES_FILE: bad, ...KEYS })).toThrow(/INSTANCES_FILE .*bad\.json: instances\.post-cn-x\.endpoint must be http:\/\/127\.0\.0\.1:<port>/);
    expect(loadLocalInstancesConfig({})).toBeUndefined();
  });
});
