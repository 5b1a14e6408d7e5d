import Redis from 'ioredis';
import { loadLocalInstanceConfig } from '../../src/config';
import { startSimulatedDevices, type SimulatedDevices } from '../../src/local/device-simulator';
import { startLocalInstance, type LocalInstance } from '../../src/local/local-instance';
import type { EmulatorCall } from '../../src/local/openapi-emulator';
import { postGraphQL, type GraphQLResponse } from '../support/graphql-client';
import { REDIS_URL, deleteKeys, describeWithRedis, startPrivateRedis, uniqueKeyPrefix, type PrivateRedis } from '../support/redis';
import { mostInAnyWindow } from '../support/rolling-window';
import { SessionAction, startTestGraph, type TestGraph } from '../support/test-graph';
import { waitFor } from '../support/wait-for';

/**
 * "The account has 100 batch calls per second in total, whoever makes them": two replicas of the
 * service share one local instance (as if one Alibaba account) and one Redis, and are driven past the
 * budget with fresh IDs. The budget is lowered to 20 calls per second on both sides (the service's
 * UPSTREAM_BATCH_QPS and the emulator's LOCAL_BATCH_QPS) so that a few seconds saturate it; the
 * emulator answers SystemOverFlow to any call past 20 in a rolling second, as the cloud would.
 */
const QPS = 20;
const ONLINE_DEVICES = 200;

type DevicesAnswer = { devices: Array<{ clientId: string; online: boolean | null }> };
interface Outcome {
  ids: string[];
  response: GraphQLResponse<DevicesAnswer>;
}

describeWithRedis('two replicas sharing one local instance and one Redis', ['redis', 'server'], () => {
  let local: LocalInstance;
  let devices: SimulatedDevices;
  let online: Set<string>;
  const replicas: TestGraph[] = [];
  let nextId = 0;

  beforeAll(async () => {
    local = await startLocalInstance(
      loadLocalInstanceConfig({ LOCAL_MQTT_PORT: '0', LOCAL_DEMO_DEVICES: '0', LOCAL_BATCH_LAG_MS: '0', LOCAL_BATCH_QPS: String(QPS) }),
    );
    devices = await startSimulatedDevices({ url: local.mqttUrl, count: ONLINE_DEVICES, groupId: 'GID_fleet', prefix: 'on-' });
    online = new Set(devices.clientIds);
  });
  afterAll(async () => {
    await devices?.stop();
    await local?.stop();
  });
  beforeEach(async () => {
    // Each test brings its own budget (its own Redis or key prefix), as another deployment would: the
    // account must no longer count the previous test's calls when it starts.
    const lastCallAt = local.emulator.calls.at(-1)?.at ?? 0;
    await waitFor("the previous test's calls to leave the account's rolling second", () => Date.now() - lastCallAt >= 1000, 5000);
    local.emulator.resetCalls();
  });
  afterEach(async () => {
    await Promise.all(replicas.splice(0).map((replica) => replica.stop()));
  });

  /** A replica as an operator would point it at the shared account and Redis. */
  async function startReplica(redisUrl: string, keyPrefix: string): Promise<TestGraph> {
    const replica = await startTestGraph({
      PRESENCE_SOURCE: 'alibaba',
      // One anonymous test caller: the cloud source refuses to start anonymous unless told.
      ALLOW_ANONYMOUS: 'true',
      ONSMQTT_ENDPOINT: local.endpoint,
      MQTT_INSTANCE_ID: local.instanceId,
      ALIBABA_CLOUD_ACCESS_KEY_ID: local.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: local.accessKeySecret,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      UPSTREAM_REPLICAS: '2',
      UPSTREAM_BATCH_QPS: String(QPS),
      // Every lookup goes upstream, and a saturating load queues for a while: none may fail for it.
      PRESENCE_CACHE_TTL_MS: '0',
      UPSTREAM_BUDGET_WAIT_MS: '20000',
      // One test client stands for a whole fleet of callers: no per-caller share here.
      CALLER_LOOKUPS_PER_SECOND: '0',
    });
    replicas.push(replica);
    return replica;
  }

  /** IDs never asked before (no cache or de-duplication can save a call); every tenth is a connected device. */
  const freshIds = (count: number) =>
    Array.from({ length: count }, () => {
      const n = ++nextId;
      return n % 10 === 0 ? `GID_fleet@@@on-${n / 10}` : `GID_fleet@@@off-${n}`;
    });

  /**
   * `clients` concurrent clients, spread over the replicas, each asking 10–50 fresh IDs per request
   * and sending its next request when the last is answered, while `keepGoing()` says so.
   */
  async function load(urls: string[], clients: number, keepGoing: () => boolean, outcomes: Outcome[]): Promise<void> {
    const client = async (url: string) => {
      while (keepGoing()) {
        const ids = freshIds(10 + Math.floor(Math.random() * 41));
        const response = await postGraphQL<DevicesAnswer>(url, 'query($ids: [ID!]!) { devices(clientIds: $ids) { clientId online } }', { ids });
        outcomes.push({ ids, response });
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, i) => client(urls[i % urls.length])));
  }

  /** Every ID answered with its true status: no error, no null, nothing wrong. */
  function expectEveryStatusRight(outcomes: Outcome[]): void {
    for (const { ids, response } of outcomes) {
      expect(response.errors).toBeUndefined();
      expect(response.data!.devices).toEqual(ids.map((clientId) => ({ clientId, online: online.has(clientId) })));
    }
  }

  const batchCalls = (): EmulatorCall[] => local.emulator.calls.filter((call) => call.action === SessionAction.Batch);

  it('never lets two replicas under a saturating load exceed the budget in any rolling second, with no SystemOverFlow and every status right', async () => {
    const keyPrefix = uniqueKeyPrefix('replicas');
    const [a, b] = [await startReplica(REDIS_URL, keyPrefix), await startReplica(REDIS_URL, keyPrefix)];
    const outcomes: Outcome[] = [];
    const loadMs = 3500;
    const started = Date.now();
    await load([a.url, b.url], 30, () => Date.now() - started < loadMs, outcomes);

    const calls = batchCalls();
    expect(calls.filter((call) => call.code !== 'ok')).toEqual([]);
    expect(mostInAnyWindow(calls.map((call) => call.at), 1000)).toBeLessThanOrEqual(QPS);
    expectEveryStatusRight(outcomes);
    // Used as well as it can be: the busiest second is full, and saturated calls carry 10 IDs each.
    expect(mostInAnyWindow(calls.map((call) => call.at), 1000)).toBeGreaterThanOrEqual(QPS - 1);
    const ids = calls.reduce((sum, call) => sum + call.clientIds.length, 0);
    expect(ids / calls.length).toBeGreaterThanOrEqual(9.5);
    expect(ids).toBe(outcomes.reduce((sum, outcome) => sum + outcome.ids.length, 0));
    // The budget was the shared one: its log lives in Redis, and neither replica fell back.
    for (const replica of [a, b]) expect(replica.logs.join('')).not.toContain('Redis unreachable');
    const redis = new Redis(REDIS_URL);
    try {
      expect(await redis.exists(`${keyPrefix}budget:${SessionAction.Batch}`)).toBe(1);
      await deleteKeys(redis, keyPrefix);
    } finally {
      redis.disconnect();
    }
  });

  describe('when Redis is killed mid-run and started again', () => {
    let redis: PrivateRedis;
    beforeAll(async () => {
      redis = await startPrivateRedis();
    });
    afterAll(async () => {
      await redis?.kill();
    });

    it('keeps answering every ID rightly, falls back loudly, rejoins, and never exceeds the budget in any rolling second', async () => {
      const keyPrefix = uniqueKeyPrefix('outage');
      const both = [await startReplica(redis.url, keyPrefix), await startReplica(redis.url, keyPrefix)];
      const outcomes: Outcome[] = [];
      let running = true;
      const loading = load(
        both.map((replica) => replica.url),
        12,
        () => running,
        outcomes,
      );
      const answeredAfter = (count: number) => () => outcomes.length >= count;
      const logged = (text: string) => () => both.every((replica) => replica.logs.some((line) => line.includes(text)));
      try {
        await waitFor('answers while Redis is up', answeredAfter(10), 15_000);

        await redis.kill();
        const killedAt = Date.now();
        await waitFor('both replicas to fall back', logged('Redis unreachable: the upstream QPS budget'), 10_000);
        const answeredBeforeOutage = outcomes.length;
        await waitFor('answers while Redis is down', answeredAfter(answeredBeforeOutage + 15), 20_000);
        expect(Date.now() - killedAt).toBeGreaterThan(1000);
        const notReady = await fetch(both[0].url.replace('/graphql', '/readyz'));
        expect(notReady.status).toBe(503);
        expect((await notReady.json()) as { status: string; failures: unknown }).toMatchObject({ status: 'not ready', failures: { redis: 'Redis (REDIS_URL) does not answer' } });

        await redis.start();
        await waitFor('both replicas to rejoin', logged('Redis reachable again: the upstream QPS budget'), 15_000);
        const answeredBeforeRejoin = outcomes.length;
        await waitFor('answers after Redis is back', answeredAfter(answeredBeforeRejoin + 15), 20_000);
        expect((await fetch(both[0].url.replace('/graphql', '/readyz'))).status).toBe(200);
      } finally {
        running = false;
        await loading;
      }

      expectEveryStatusRight(outcomes);
      const calls = batchCalls();
      expect(calls.filter((call) => call.code !== 'ok')).toEqual([]);
      expect(mostInAnyWindow(calls.map((call) => call.at), 1000)).toBeLessThanOrEqual(QPS);
      for (const replica of both) {
        const fallback = replica.logs.map((line) => JSON.parse(line) as { level: number; msg: string }).find((entry) => entry.msg.startsWith('Redis unreachable: the upstream QPS budget'));
        expect(fallback).toMatchObject({ level: 50, msg: expect.stringContaining('per-replica share 1/2') });
      }
    });
  });
});
