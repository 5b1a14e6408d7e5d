import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { loadLocalInstanceConfig } from '../../src/config';
import { deviceGlobalId } from '../../src/graphql/device-id';
import { startLocalInstance, type LocalInstance } from '../../src/local/local-instance';
import { postGraphQL } from '../support/graphql-client';
import { REDIS_URL, deleteKeys, describeWithRedis, uniqueKeyPrefix } from '../support/redis';
import { mostInAnyWindow } from '../support/rolling-window';
import { SessionAction, startTestGraph, type TestGraph } from '../support/test-graph';

/**
 * Two replicas with the same INSTANCES_FILE, one Redis and one key prefix: each account's budget is
 * counted under its own Redis keys and shared by both replicas. Account `legacy` keeps the key of a
 * deployment without the file (legacyBudgetKey), so a rolling upgrade shares it with old replicas;
 * account `other` gets `budget:account:other:`. Both emulators admit 10 batch calls per second, and
 * the catalogue gives each account 10: together the replicas must never exceed either.
 */
const QPS = 10;

describeWithRedis('two replicas sharing INSTANCES_FILE and Redis', ['redis'], () => {
  const locals: LocalInstance[] = [];
  const replicas: TestGraph[] = [];
  let directory: string;
  const keyPrefix = uniqueKeyPrefix('instances');
  const instanceIds = ['post-cn-legacy01', 'post-cn-other001'];

  beforeAll(async () => {
    for (const [n, instanceId] of instanceIds.entries()) {
      locals.push(
        await startLocalInstance(
          loadLocalInstanceConfig({
            LOCAL_INSTANCE_ID: instanceId,
            LOCAL_ACCESS_KEY_ID: `LTAIreplicakey00${n}`,
            LOCAL_ACCESS_KEY_SECRET: `replica-secret-${n}`,
            LOCAL_MQTT_PORT: '0',
            LOCAL_DEMO_DEVICES: '0',
            LOCAL_BATCH_LAG_MS: '0',
            LOCAL_BATCH_QPS: String(QPS),
          }),
        ),
      );
    }
    directory = mkdtempSync(join(tmpdir(), 'instances-replicas-'));
    const file = join(directory, 'instances.json');
    writeFileSync(
      file,
      JSON.stringify({
        accounts: {
          legacy: { accessKeyIdEnv: 'AK_ID_0', accessKeySecretEnv: 'AK_SECRET_0', batchQps: QPS, legacyBudgetKey: true },
          other: { accessKeyIdEnv: 'AK_ID_1', accessKeySecretEnv: 'AK_SECRET_1', batchQps: QPS },
        },
        instances: {
          [instanceIds[0]]: { account: 'legacy', endpoint: locals[0].endpoint },
          [instanceIds[1]]: { account: 'other', endpoint: locals[1].endpoint },
        },
      }),
    );
    for (let i = 0; i < 2; i++) {
      replicas.push(
        await startTestGraph({
          PRESENCE_SOURCE: 'alibaba',
          ALLOW_ANONYMOUS: 'true',
          INSTANCES_FILE: file,
          ...Object.fromEntries(locals.flatMap((local, n) => [[`AK_ID_${n}`, local.accessKeyId], [`AK_SECRET_${n}`, local.accessKeySecret]])),
          REDIS_URL,
          REDIS_KEY_PREFIX: keyPrefix,
          UPSTREAM_REPLICAS: '2',
          UPSTREAM_BUDGET_WAIT_MS: '20000',
          CALLER_LOOKUPS_PER_SECOND: '0',
          MAX_IDS_PER_REQUEST: '1000',
          MAX_QUERY_COST: '100000',
        }),
      );
    }
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.stop();
    for (const local of locals) await local.stop();
    const redis = new Redis(REDIS_URL);
    await deleteKeys(redis, keyPrefix).finally(() => redis.disconnect());
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('holds each account within its own budget under load from both replicas, each under its own Redis keys', async () => {
    // Each replica asks 60 fresh IDs of each instance at once: 12 calls per account, 10 per second allowed.
    let next = 0;
    const ask = (url: string) =>
      postGraphQL<{ nodes: Array<{ online: boolean | null }> }>(url, 'query($ids: [ID!]!) { nodes(ids: $ids) { ... on Device { online } } }', {
        ids: instanceIds.flatMap((instanceId) => Array.from({ length: 60 }, () => deviceGlobalId({ instanceId, clientId: `GID_fleet@@@off-${++next}` }))),
      });
    const responses = await Promise.all(replicas.map((replica) => ask(replica.url)));

    for (const response of responses) {
      expect(response.errors).toBeUndefined();
      expect(response.data!.nodes.every((node) => node.online === false)).toBe(true);
    }
    for (const local of locals) {
      const calls = local.emulator.calls.filter((call) => call.action === SessionAction.Batch);
      expect(calls).toHaveLength(12);
      expect(calls.filter((call) => call.code !== 'ok')).toEqual([]);
      // Never over its budget, and able to use all of it: its 10 in one second while the other account used its own.
      expect(mostInAnyWindow(calls.map((call) => call.at), 1000)).toBe(QPS);
    }
    // Held separately: both accounts at full budget in the same second (one shared budget would cap both at 10).
    const both = locals.flatMap((local) => local.emulator.calls.filter((call) => call.action === SessionAction.Batch).map((call) => call.at));
    expect(mostInAnyWindow(both, 1000)).toBe(2 * QPS);
    const redis = new Redis(REDIS_URL);
    try {
      expect(await redis.exists(`${keyPrefix}budget:${SessionAction.Batch}`)).toBe(1);
      expect(await redis.exists(`${keyPrefix}budget:account:other:${SessionAction.Batch}`)).toBe(1);
      expect(await redis.exists(`${keyPrefix}budget:account:legacy:${SessionAction.Batch}`)).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
