import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { startAmqpAuthEndpoint, type AmqpAuthEndpoint } from '../../../src/local/amqp-auth-endpoint';
import { amqpLogin, STATUS_NOTICE_QUEUE, STATUS_NOTICE_VHOST } from '../../../src/upstream/status-notices/amqp-login';
import { startCheckingOpenApi, type CheckingOpenApi } from '../../support/checking-openapi';
import { startCredentialsUriServer, type CredentialsUriServer } from '../../support/credentials-uri-server';
import { postGraphQL } from '../../support/graphql-client';
import { describeWithRabbitMQ, pointRabbitMQAuthAt, RABBITMQ_URL, restoreRabbitMQAuth } from '../../support/rabbitmq';
import { amqpLoginKeysOf, StsAuthority, type IssuedCredential } from '../../support/sts-authority';
import { startTestGraph, type TestGraph } from '../../support/test-graph';
import { waitFor } from '../../support/wait-for';

const RUN = `${process.pid}x${randomUUID().slice(0, 6)}`;
const INSTANCE_ID = `post-cn-relogin${RUN}`;
/** A group of this run alone: notices other runs left in STATUS are another group's, ignored by the sink. */
const GROUP = `GID_relogin${RUN}`;
/** A new key every 2 s, each valid 6 s: the service renews at half-life (3 s), so about every 4 s a new key. */
const ROTATE_EVERY_MS = 2_000;
const LIFE_MS = 6_000;
/** Notices published across the rotations, one every PUBLISH_EVERY_MS for ROTATING_MS. */
const ROTATING_MS = 16_000;
const PUBLISH_EVERY_MS = 50;
const broker = new URL(RABBITMQ_URL);

/**
 * The status-notice login with temporary credentials against the real RabbitMQ: the whole service
 * (startPresenceGraph, so the consumer is wired as src/presence-notices.ts wires it) takes STS keys
 * from a credentials URI that rotates them every few seconds; RabbitMQ asks the local login check
 * (rabbitmq_auth_backend_http) about each login, and it accepts the STS username form
 * `0:<instanceId>:<AccessKeyId>:<SecurityToken>` only while the authority says the key is current.
 */
describeWithRabbitMQ('the status-notice consumer logs in again with each rotated STS token', ['amqp', 'rabbitmqctl'], () => {
  let authority: StsAuthority;
  let uri: CredentialsUriServer;
  let upstream: CheckingOpenApi;
  let auth: AmqpAuthEndpoint;
  let graph: TestGraph;
  let publisher: amqp.ChannelModel;
  let channel: amqp.Channel;
  let firstKey: IssuedCredential;

  beforeAll(async () => {
    authority = new StsAuthority({ rotateEveryMs: ROTATE_EVERY_MS, lifeMs: LIFE_MS });
    firstKey = authority.current();
    uri = await startCredentialsUriServer(authority);
    upstream = await startCheckingOpenApi(authority);
    auth = await startAmqpAuthEndpoint({ keys: amqpLoginKeysOf(authority, INSTANCE_ID) });
    await pointRabbitMQAuthAt(auth.url);
    const setup = new URL(RABBITMQ_URL);
    setup.pathname = `/${STATUS_NOTICE_VHOST}`;
    publisher = await amqp.connect(setup.href);
    channel = await publisher.createChannel();
    await channel.assertQueue(STATUS_NOTICE_QUEUE, { durable: true });
    graph = await startTestGraph({
      PRESENCE_SOURCE: 'alibaba',
      ALLOW_ANONYMOUS: 'true',
      ONSMQTT_ENDPOINT: upstream.endpoint,
      MQTT_INSTANCE_ID: INSTANCE_ID,
      ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'uri',
      ALIBABA_CLOUD_CREDENTIALS_URI: uri.uri,
      ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
      STATUS_NOTICES: 'on',
      STATUS_NOTICES_URL: `amqp://${broker.hostname}:${broker.port || 5672}`,
      STATUS_NOTICES_GROUPS: GROUP,
      UPSTREAM_REPLICAS: '1',
    });
  }, 60_000);
  afterAll(async () => {
    await graph?.stop();
    await publisher?.close().catch(() => undefined);
    await restoreRabbitMQAuth();
    await auth?.close();
    await upstream?.close();
    await uri?.close();
  }, 60_000);

  const logs = () => graph.logs.map((line) => JSON.parse(line) as { msg: string; connection?: number });
  const groupOnline = async () =>
    (await postGraphQL<{ groupPresence: { online: number } }>(graph.url, `{ groupPresence(groupId: "${GROUP}") { online } }`)).data?.groupPresence.online;
  const allowedLogins = () => auth.decisions.filter((decision) => decision.path === '/auth/user' && decision.allowed);

  it('across rotations every few seconds, logs in with each new key make-before-break, and no notice published meanwhile is lost', async () => {
    await waitFor('the first login consuming', () => logs().some(({ msg }) => msg === 'status notice connection consuming'), 15_000);
    const loginsBefore = allowedLogins().length;
    let published = 0;
    const until = Date.now() + ROTATING_MS;
    // The load: one connect notice per device, paced (not a wait for anything), while keys rotate.
    while (Date.now() < until) {
      const clientId = `${GROUP}@@@device-${published++}`;
      channel.sendToQueue(STATUS_NOTICE_QUEUE, Buffer.from(JSON.stringify({ clientId, eventType: 'connect', channelId: `ch-${published}`, clientIp: '10.0.0.1', time: Date.now() })));
      await new Promise((resolve) => setTimeout(resolve, PUBLISH_EVERY_MS));
    }
    await waitFor(`all ${published} devices online from the notices`, async () => (await groupOnline()) === published, 10_000, 100);

    // At a new key about every 4 s, 16 s spans at least 3 renewals, each a login with a key not used before.
    const renewedWith = allowedLogins().slice(loginsBefore).map(({ accessKeyId }) => accessKeyId);
    expect(renewedWith.length).toBeGreaterThanOrEqual(3);
    expect(new Set(renewedWith).size).toBe(renewedWith.length);
    const refusedOurs = auth.decisions.filter((decision) => ['expired-security-token', 'bad-security-token', 'bad-signature'].includes(decision.reason));
    expect(refusedOurs).toEqual([]);
    // Each old connection closed only after its successor consumed: never a moment without a consumer.
    const order = logs()
      .filter(({ msg }) => msg === 'status notice connection consuming' || msg === 'status notice connection closed')
      .map(({ msg, connection }) => `${msg.replace('status notice connection ', '')} #${connection}`);
    const closed = order.filter((entry) => entry.startsWith('closed'));
    expect(closed.length).toBeGreaterThanOrEqual(3);
    for (const entry of closed) {
      const serial = Number(entry.slice('closed #'.length));
      expect(order.indexOf(`consuming #${serial + 1}`)).toBeGreaterThan(-1);
      expect(order.indexOf(`consuming #${serial + 1}`)).toBeLessThan(order.indexOf(entry));
    }
    expect(logs().filter(({ msg }) => msg === 'status notice connection lost; reconnecting')).toEqual([]);
    // The load was carried by the OpenAPI side as well: never an expired key sent upstream.
    expect([...upstream.refused]).toEqual([]);
    console.info(`relogin: ${renewedWith.length} renewed logins in ${ROTATING_MS} ms, ${published} notices, ${authority.issued} keys issued`);
  }, ROTATING_MS + 25_000);

  it('the broker refuses a login with an expired token, and accepts the same form with the current one', async () => {
    const connectAs = (key: IssuedCredential) => {
      const login = amqpLogin({ accessKeyId: key.AccessKeyId, accessKeySecret: key.AccessKeySecret, securityToken: key.SecurityToken }, INSTANCE_ID, Date.now());
      return amqp.connect({ hostname: broker.hostname, port: Number(broker.port || 5672), username: login.username, password: login.password, vhost: STATUS_NOTICE_VHOST }, { timeout: 5_000 });
    };
    expect(Date.now()).toBeGreaterThan(Date.parse(firstKey.Expiration));
    await expect(connectAs(firstKey)).rejects.toThrow(/ACCESS_REFUSED/);
    expect(auth.decisions.at(-1)).toMatchObject({ path: '/auth/user', allowed: false, reason: 'expired-security-token' });
    const current = await connectAs(authority.current());
    await current.close();
  });

  it('never logs a secret or a token', () => {
    const all = graph.logs.join('\n');
    for (const key of [firstKey, authority.current()]) {
      expect(all).not.toContain(key.AccessKeySecret);
      expect(all).not.toContain(key.SecurityToken);
    }
  });
});
