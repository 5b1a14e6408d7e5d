import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as amqp from 'amqplib';
import mqtt from 'mqtt';
import { deviceGlobalId } from '../../src/graphql/device-id';
import type { LocalInstance } from '../../src/local/local-instance';
import { startAmqpAuthRouter } from '../../src/local/amqp-auth-router';
import { postGraphQL } from '../support/graphql-client';
import { accountEntries, instancesFileEnv, startTestInstance } from '../support/instances-file';
import { graphqlWsClient, subscribe, type TestSubscription } from '../support/graphql-ws-client';
import { describeWithRabbitMQ, pointRabbitMQAuthAt, RABBITMQ_URL, restoreRabbitMQAuth } from '../support/rabbitmq';
import { SessionAction, startTestGraph, type TestGraph } from '../support/test-graph';
import { waitFor } from '../support/wait-for';

const run = promisify(execFile);

/**
 * INSTANCES_FILE with status notices per instance, through the real RabbitMQ: instances alpha and
 * beta (two accounts) each publish their notices to a queue of their own on one broker, as two cloud
 * instances each have their own AMQP endpoint; the service runs one consumer per instance, each
 * logging in with its instance ID and its account's AccessKey (the broker asks each instance's own
 * login check, through a router). Gamma (account beta) carries no statusNotices: its devices keep the
 * batch path and the account's poller. Alpha's and beta's batch actions lag 5 s behind their brokers,
 * so an answer or an event sooner than that can only have come from the notices.
 */
const runId = `${process.pid}x${Date.now() % 100000}`;
const ALPHA = { instanceId: 'post-cn-alpha01', accessKeyId: 'LTAIalphakey0001', secret: 'alpha-secret-4f1c', queue: `STATUS-alpha-${runId}`, lagMs: 5000 };
const BETA = { instanceId: 'post-cn-beta0001', accessKeyId: 'LTAIbetakey00001', secret: 'beta-secret-9a2e', queue: `STATUS-beta-${runId}`, lagMs: 5000 };
const GAMMA = { instanceId: 'post-cn-gamma001', accessKeyId: BETA.accessKeyId, secret: BETA.secret, queue: undefined, lagMs: 0 };
const BROKER = RABBITMQ_URL.replace(/\/\/[^@/]*@/, '//');

type Change = { presenceChanged: { online: boolean; initial: boolean; device: { instanceId: string; clientId: string } } };

describeWithRabbitMQ('status notices of several instances in two accounts (INSTANCES_FILE)', ['amqp', 'rabbitmqctl'], () => {
  const locals: LocalInstance[] = [];
  let alpha: LocalInstance;
  let beta: LocalInstance;
  let gamma: LocalInstance;
  let router: Awaited<ReturnType<typeof startAmqpAuthRouter>> | undefined;
  let directory: string;
  let graph: TestGraph;
  const devices: mqtt.MqttClient[] = [];

  const startInstance = async (instance: typeof ALPHA | typeof GAMMA) => {
    const local = await startTestInstance(instance, {
      LOCAL_BATCH_LAG_MS: String(instance.lagMs),
      LOCAL_AMQP_AUTH_PORT: '0',
      ...(instance.queue && { LOCAL_STATUS_NOTICES_URL: RABBITMQ_URL, LOCAL_STATUS_NOTICES_QUEUE: instance.queue }),
    });
    locals.push(local);
    return local;
  };

  beforeAll(async () => {
    [alpha, beta, gamma] = [await startInstance(ALPHA), await startInstance(BETA), await startInstance(GAMMA)];
    router = await startAmqpAuthRouter({ [ALPHA.instanceId]: alpha.amqpAuthUrl!, [BETA.instanceId]: beta.amqpAuthUrl! });
    await pointRabbitMQAuthAt(router.url);
    directory = mkdtempSync(join(tmpdir(), 'instances-notices-'));
    const accounts = { alpha: ALPHA, beta: BETA };
    const catalogue = {
      accounts: accountEntries(accounts),
      instances: {
        [ALPHA.instanceId]: { account: 'alpha', endpoint: alpha.endpoint, statusNotices: { url: BROKER, groups: ['GID_fleet'], queue: ALPHA.queue } },
        [BETA.instanceId]: { account: 'beta', endpoint: beta.endpoint, statusNotices: { url: BROKER, groups: ['GID_fleet'], queue: BETA.queue } },
        [GAMMA.instanceId]: { account: 'beta', endpoint: gamma.endpoint },
      },
    };
    graph = await startTestGraph({
      ...instancesFileEnv(directory, catalogue, accounts),
      SUBSCRIPTION_POLL_INTERVAL_MS: '250',
      UPSTREAM_REPLICAS: '1',
    });
  }, 90_000);
  afterAll(async () => {
    for (const device of devices) await device.endAsync();
    await graph?.stop();
    for (const local of locals) await local.stop();
    await router?.close();
    await restoreRabbitMQAuth();
    const connection = await amqp.connect(`${RABBITMQ_URL}/MQTT`);
    const channel = await connection.createChannel();
    for (const queue of [ALPHA.queue, BETA.queue]) await channel.deleteQueue(queue);
    await connection.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  }, 90_000);

  const connect = async (local: LocalInstance, clientId: string) => {
    devices.push(await mqtt.connectAsync(local.mqttUrl, { clientId, reconnectPeriod: 0 }));
  };
  const presenceOf = async (instanceId: string, clientId: string) => {
    const response = await postGraphQL<{ devices: Array<{ presence: { online: boolean; source: string } }> }>(
      graph.url,
      `{ devices(instanceId: "${instanceId}", clientIds: ["${clientId}"]) { presence { online source } } }`,
    );
    expect(response.errors).toBeUndefined();
    return response.data!.devices[0].presence;
  };
  /** The next events until each named device has reported `online` (in whatever order they come). */
  const untilOnline = async (subscription: TestSubscription<Change>, instanceIds: string[], what: string) => {
    const waiting = new Set(instanceIds);
    while (waiting.size > 0) {
      const event = (await subscription.next(`${what}: ${[...waiting].join(', ')}`, 15_000)).data!.presenceChanged;
      if (event.online && !event.initial) waiting.delete(event.device.instanceId);
    }
  };

  it('logs in once per noticed instance, with that instance ID and its account\'s AccessKey, on vhost MQTT', async () => {
    const expected = [ALPHA, BETA].map((instance) => Buffer.from(`0:${instance.instanceId}:${instance.accessKeyId}`).toString('base64'));
    await waitFor('both consumers logged in', async () => {
      const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', '--no-table-headers', 'user', 'vhost'], { timeout: 30_000 });
      const users = stdout.split('\n').map((line) => line.trim().split(/\s+/)).filter(([, vhost]) => vhost === 'MQTT').map(([user]) => user);
      return expected.every((user) => users.includes(user));
    }, 30_000);
    expect(graph.logs.join('\n')).not.toContain(ALPHA.secret);
    expect(graph.logs.join('\n')).not.toContain(BETA.secret);
  });

  it('applies each instance\'s notices to its own rows: the same Client ID connected on alpha only is online there alone', async () => {
    const clientId = `GID_fleet@@@same-${runId}`;
    await connect(alpha, clientId);
    // Alpha's batch action still answers offline (5 s lag): online now can only be alpha's notice.
    await waitFor('alpha\'s notice in the table', async () => (await presenceOf(ALPHA.instanceId, clientId)).source === 'EVENTS');
    expect(await presenceOf(ALPHA.instanceId, clientId)).toEqual({ online: true, source: 'EVENTS' });
    const onBeta = await presenceOf(BETA.instanceId, clientId);
    expect(onBeta.online).toBe(false);
    expect(onBeta.source).not.toBe('EVENTS');
    expect(beta.emulator.calls.filter((call) => call.action === SessionAction.Batch && call.clientIds.includes(clientId))).toHaveLength(1);
  });

  it('counts an instance\'s group from its notices, and refuses the groups of gamma, whose notices nobody consumes', async () => {
    const clientId = `GID_fleet@@@counted-${runId}`;
    await connect(beta, clientId);
    const count = async (instanceId: string) =>
      postGraphQL<{ groupPresence: { online: number } }>(graph.url, `{ groupPresence(instanceId: "${instanceId}", groupId: "GID_fleet") { online } }`);
    await waitFor('beta\'s notice counted', async () => ((await count(BETA.instanceId)).data?.groupPresence.online ?? 0) >= 1);
    const refused = await count(GAMMA.instanceId);
    expect(refused.data).toBeNull();
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'STATUS_NOTICES_OFF' }, message: expect.stringContaining(GAMMA.instanceId) });
  });

  it('pushes one presenceChanged mixing three instances of two accounts: alpha and beta from their notices, gamma from the poller', async () => {
    const keys = [ALPHA, BETA, GAMMA].map((instance) => ({ instanceId: instance.instanceId, clientId: `GID_fleet@@@mixed-${instance.instanceId}-${runId}` }));
    const client = graphqlWsClient(graph.url);
    const subscription = subscribe<Change, { ids: string[] }>(
      client,
      'subscription($ids: [ID!]!) { presenceChanged(ids: $ids) { online initial device { instanceId clientId } } }',
      { ids: keys.map(deviceGlobalId) },
    );
    // One at a time: the test subscription wakes one waiter per event.
    const initial = [];
    for (let i = 0; i < keys.length; i++) initial.push((await subscription.next('the current statuses', 10_000)).data!.presenceChanged);
    expect(initial.sort((a, b) => a.device.instanceId.localeCompare(b.device.instanceId))).toEqual(
      keys.map((key) => ({ online: false, initial: true, device: key })).sort((a, b) => a.device.instanceId.localeCompare(b.device.instanceId)),
    );

    const connectedAt = Date.now();
    await Promise.all([connect(alpha, keys[0].clientId), connect(beta, keys[1].clientId)]);
    await untilOnline(subscription, [ALPHA.instanceId, BETA.instanceId], 'the connects, through RabbitMQ');
    // Sooner than either batch action could have seen them: the notices carried both.
    expect(Date.now() - connectedAt).toBeLessThan(ALPHA.lagMs);

    await connect(gamma, keys[2].clientId);
    await untilOnline(subscription, [GAMMA.instanceId], 'gamma\'s connect, polled on account beta');
    expect(gamma.emulator.calls.some((call) => call.action === SessionAction.Batch && call.clientIds.includes(keys[2].clientId))).toBe(true);
    subscription.unsubscribe();
    await client.dispose();
  });
});
