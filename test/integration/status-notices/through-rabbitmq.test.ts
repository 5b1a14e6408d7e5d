import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { LOCAL_DEFAULTS } from '../../../src/config';
import { postGraphQL } from '../../support/graphql-client';
import { graphqlWsClient, subscribe } from '../../support/graphql-ws-client';
import { describeWithRabbitMQ, pointRabbitMQAuthAt, RABBITMQ_URL, restoreRabbitMQAuth } from '../../support/rabbitmq';
import { freePort } from '../../support/redis';
import { SessionAction, startTestGraph, type TestGraph } from '../../support/test-graph';
import { waitFor } from '../../support/wait-for';

const run = promisify(execFile);

/**
 * LOCAL_STATUS_NOTICES_URL: the local instance publishes its notices to a real RabbitMQ (vhost MQTT,
 * queue STATUS) and the service consumes them from there through the very consumer and signed login
 * the cloud gets. RabbitMQ's HTTP auth backend asks the local instance about each login, which checks
 * it as the cloud does (username, and a `ts` within the last minute whose HMAC-SHA1 matches).
 */
describeWithRabbitMQ('status notices through a real AMQP broker, with the signed login', ['amqp', 'rabbitmqctl'], () => {
  let graph: TestGraph;
  const runId = `${process.pid}x${Date.now() % 100000}`;

  beforeAll(async () => {
    const authPort = await freePort();
    // The broker is told where to ask first, so the service's first login is already checked.
    await pointRabbitMQAuthAt(`http://127.0.0.1:${authPort}/auth`);
    graph = await startTestGraph({ LOCAL_STATUS_NOTICES_URL: RABBITMQ_URL, LOCAL_AMQP_AUTH_PORT: String(authPort), LOCAL_BATCH_LAG_MS: '5000' });
  }, 90_000);
  afterAll(async () => {
    await graph?.stop();
    await restoreRabbitMQAuth();
  }, 90_000);

  const presenceOf = async (clientId: string) => {
    const response = await postGraphQL<{ device: { presence: { online: boolean; source: string } } }>(graph.url, `{ device(clientId: "${clientId}") { presence { online source } } }`);
    expect(response.errors).toBeUndefined();
    return response.data!.device.presence;
  };

  it('logs in to the broker with the signed username of the local instance\'s AccessKey, on vhost MQTT', async () => {
    const expectedUser = Buffer.from(`0:${LOCAL_DEFAULTS.instanceId}:${LOCAL_DEFAULTS.accessKeyId}`).toString('base64');
    const users = await waitFor('the consumer logged in', async () => {
      const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', '--no-table-headers', 'user', 'vhost'], { timeout: 30_000 });
      const lines = stdout.split('\n').map((line) => line.trim().split(/\s+/));
      return lines.some(([user, vhost]) => user === expectedUser && vhost === 'MQTT') ? lines : undefined;
    }, 30_000);
    expect(users!.length).toBeGreaterThan(0);
  });

  it('answers a device from the notices the broker carried, and pushes its changes to subscribers', async () => {
    const clientId = `GID_amqp@@@device-${runId}`;
    const client = graphqlWsClient(graph.url);
    const subscription = subscribe<{ presenceChanged: { online: boolean; initial: boolean } }, Record<string, unknown>>(
      client,
      'subscription($ids: [ID!]!) { presenceChanged(clientIds: $ids) { online initial } }',
      { ids: [clientId] },
    );
    expect((await subscription.next('the current status', 10_000)).data!.presenceChanged).toEqual({ online: false, initial: true });

    const device = await mqtt.connectAsync(graph.local!.mqttUrl, { clientId, reconnectPeriod: 0 });
    expect((await subscription.next('the connect, through RabbitMQ', 15_000)).data!.presenceChanged).toEqual({ online: true, initial: false });
    expect(await presenceOf(clientId)).toEqual({ online: true, source: 'EVENTS' });

    await device.endAsync();
    expect((await subscription.next('the disconnect, through RabbitMQ', 15_000)).data!.presenceChanged).toEqual({ online: false, initial: false });
    // The batch action lags 5 s behind the broker: an offline answer this soon is the notices'.
    expect(await presenceOf(clientId)).toEqual({ online: false, source: 'EVENTS' });
    expect(graph.upstreamCalls(SessionAction.Batch).filter((call) => call.clientIds.includes(clientId))).toHaveLength(1);
    subscription.unsubscribe();
    await client.dispose();
  });
});
