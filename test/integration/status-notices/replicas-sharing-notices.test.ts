import mqtt, { type MqttClient } from 'mqtt';
import Redis from 'ioredis';
import { loadLocalInstanceConfig } from '../../../src/config';
import { startLocalInstance, type LocalInstance } from '../../../src/local/local-instance';
import { postGraphQL } from '../../support/graphql-client';
import { graphqlWsClient, subscribe } from '../../support/graphql-ws-client';
import { describeWithRabbitMQ, pointRabbitMQAuthAt, RABBITMQ_URL, restoreRabbitMQAuth } from '../../support/rabbitmq';
import { deleteKeys, describeWithRedis, freePort, REDIS_URL, uniqueKeyPrefix } from '../../support/redis';
import { SessionAction, startTestGraph, type TestGraph } from '../../support/test-graph';
import { waitFor } from '../../support/wait-for';

const GROUP = 'GID_replicated';

/**
 * The cloud's path, end to end on this machine: one instance (the local instance, reached as
 * PRESENCE_SOURCE=alibaba, as several replicas reach Alibaba Cloud) publishes its notices to a real
 * RabbitMQ; two replicas consume them as competing consumers with the signed login, share one
 * presence table in Redis, and each one's subscribers see every change, whichever replica applied it.
 */
describeWithRedis('two replicas consuming one instance\'s notices', ['redis'], () => {
  describeWithRabbitMQ('through RabbitMQ, sharing the table in Redis', ['amqp', 'rabbitmqctl'], () => {
    let local: LocalInstance;
    const replicas: TestGraph[] = [];
    const prefix = uniqueKeyPrefix('notices-replicas');
    const devices: MqttClient[] = [];

    beforeAll(async () => {
      const authPort = await freePort();
      await pointRabbitMQAuthAt(`http://127.0.0.1:${authPort}/auth`);
      local = await startLocalInstance(
        loadLocalInstanceConfig({
          LOCAL_MQTT_PORT: '0',
          LOCAL_DEMO_DEVICES: '0',
          // The batch action lags 5 s behind the broker: a change seen sooner is the notices'.
          LOCAL_BATCH_LAG_MS: '5000',
          LOCAL_STATUS_NOTICES_URL: RABBITMQ_URL,
          LOCAL_AMQP_AUTH_PORT: String(authPort),
        }),
      );
      for (let i = 0; i < 2; i++) {
        replicas.push(await startTestGraph(replicaEnv()));
      }
      // Each replica trusts the table from its own consumer's first login on (docs/status-notices.md):
      // devices connect once both consume.
      for (const replica of replicas) {
        await waitFor('the replica\'s consumer to consume', () => replica.logs.some((line) => line.includes('status notice connection consuming')), 30_000);
      }
    }, 90_000);
    afterAll(async () => {
      for (const device of devices) device.end(true);
      await Promise.all(replicas.map((replica) => replica.stop()));
      await local?.stop();
      await restoreRabbitMQAuth();
      const redis = new Redis(REDIS_URL);
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }, 90_000);

    /** A replica as an operator points it at the instance, its notices and the shared Redis. */
    const replicaEnv = () => ({
      PRESENCE_SOURCE: 'alibaba',
      ALLOW_ANONYMOUS: 'true',
      ONSMQTT_ENDPOINT: local.endpoint,
      MQTT_INSTANCE_ID: local.instanceId,
      ALIBABA_CLOUD_ACCESS_KEY_ID: local.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: local.accessKeySecret,
      STATUS_NOTICES_URL: 'amqp://127.0.0.1:5672',
      STATUS_NOTICES_GROUPS: GROUP,
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      UPSTREAM_REPLICAS: '2',
    });

    const presenceOn = async (replica: TestGraph, clientId: string) => {
      const response = await postGraphQL<{ device: { presence: { online: boolean; source: string } } }>(replica.url, `{ device(clientId: "${clientId}") { presence { online source } } }`);
      expect(response.errors).toBeUndefined();
      return response.data!.device.presence;
    };
    const summaryOn = async (replica: TestGraph) =>
      (await postGraphQL<{ groupPresence: { online: number; known: number } }>(replica.url, `{ groupPresence(groupId: "${GROUP}") { online known } }`)).data!.groupPresence;

    it('pushes every change to each replica\'s subscribers, and both answer it from the shared table', async () => {
      const clients = replicas.map((replica) => graphqlWsClient(replica.url));
      const ids = Array.from({ length: 6 }, (_, i) => `${GROUP}@@@truck-${i}`);
      const subscriptions = clients.map((client) =>
        subscribe<{ presenceChanged: { device: { clientId: string }; online: boolean; initial: boolean } }, Record<string, unknown>>(
          client,
          'subscription($ids: [ID!]!) { presenceChanged(clientIds: $ids) { device { clientId } online initial } }',
          { ids },
        ),
      );
      for (const subscription of subscriptions) {
        for (let i = 0; i < ids.length; i++) expect((await subscription.next('a first status', 15_000)).data!.presenceChanged.initial).toBe(true);
      }
      // Six connects: the two replicas compete for the notices, so each applies some of them.
      for (const clientId of ids) devices.push(await mqtt.connectAsync(local.mqttUrl, { clientId, reconnectPeriod: 0 }));
      for (const subscription of subscriptions) {
        const seen = new Set<string>();
        while (seen.size < ids.length) {
          const change = (await subscription.next('every connect, on every replica', 15_000)).data!.presenceChanged;
          expect(change).toMatchObject({ online: true, initial: false });
          seen.add(change.device.clientId);
        }
      }
      for (const replica of replicas) {
        for (const clientId of ids) expect(await presenceOn(replica, clientId)).toEqual({ online: true, source: 'EVENTS' });
        expect(await summaryOn(replica)).toEqual({ online: 6, known: 6 });
      }
      subscriptions.forEach((subscription) => subscription.unsubscribe());
      await Promise.all(clients.map((client) => client.dispose()));
    });

    it('loses nothing when one replica\'s consumer stops mid-stream: the other applies the rest', async () => {
      const [survivor, stopped] = replicas;
      await stopped.stop();
      await Promise.all(devices.slice(0, 3).map((device) => device.endAsync()));
      const ids = Array.from({ length: 3 }, (_, i) => `${GROUP}@@@truck-${i}`);
      await waitFor('the survivor to apply the disconnects', async () => (await summaryOn(survivor)).online === 3, 15_000);
      for (const clientId of ids) expect(await presenceOn(survivor, clientId)).toEqual({ online: false, source: 'EVENTS' });
      // No device was ever asked through the batch action but for the subscriptions' first statuses.
      const asked = local.emulator.calls.filter((call) => call.action === SessionAction.Batch).flatMap((call) => call.clientIds);
      expect(new Set(asked).size).toBeLessThanOrEqual(6);
    });

    it('lets a replica started later trust the table at once, since another kept consuming: no batch call for what the table knows', async () => {
      const [survivor] = replicas;
      const late = await startTestGraph({ ...replicaEnv(), UPSTREAM_REPLICAS: '2' });
      replicas.push(late);
      const before = local.emulator.calls.length;
      for (let i = 3; i < 6; i++) expect(await presenceOn(late, `${GROUP}@@@truck-${i}`)).toEqual({ online: true, source: 'EVENTS' });
      expect(await summaryOn(late)).toEqual(await summaryOn(survivor));
      expect(local.emulator.calls.length).toBe(before);
    });
  });
});
