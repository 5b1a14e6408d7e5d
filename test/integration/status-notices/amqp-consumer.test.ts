import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { startAmqpAuthEndpoint, type AmqpAuthEndpoint } from '../../../src/local/amqp-auth-endpoint';
import { MemoryPresenceTable } from '../../../src/presence/status-notices/memory-presence-table';
import { MemoryChangeFeed } from '../../../src/presence/status-notices/presence-change-feed';
import { StatusNoticeSink } from '../../../src/presence/status-notices/status-notice-sink';
import { amqpLogin } from '../../../src/upstream/status-notices/amqp-login';
import { StatusNoticeConsumer, type NoticeMeta, type NoticeOutcome, type StatusNoticeConsumerOptions } from '../../../src/upstream/status-notices/status-notice-consumer';
import { capturedLogger, linesSaying } from '../../support/captured-logs';
import { describeWithRabbitMQ, dropConnectionsOf, pointRabbitMQAuthAt, RABBITMQ_URL, restoreRabbitMQAuth } from '../../support/rabbitmq';
import { waitFor } from '../../support/wait-for';

const RUN = `${process.pid}-${randomUUID().slice(0, 8)}`;
/** An instance of this run alone, so its signed username (and the connections the test drops) are ours. */
const INSTANCE = `mqtt-cn-test${RUN}`;
const KEY = { accessKeyId: `LTAItest${RUN}`, accessKeySecret: `secret-${randomUUID()}` };
const USERNAME = amqpLogin(KEY, INSTANCE, 0).username;
/** A queue of this run: the real one is STATUS, which other runs may share. */
const QUEUE = `presence-graph-test.status.${RUN}`;
const broker = new URL(RABBITMQ_URL);
const CONSUMER_URL = `amqp://${broker.hostname}:${broker.port || 5672}`;

interface Received {
  body: string;
  meta: NoticeMeta;
}

describeWithRabbitMQ('StatusNoticeConsumer against a real RabbitMQ (signed login checked by the local auth endpoint)', ['amqp', 'rabbitmqctl'], () => {
  let endpoint: AmqpAuthEndpoint;
  let publisher: amqp.ChannelModel;
  let channel: amqp.Channel;
  const consumers: StatusNoticeConsumer[] = [];
  const { logger, lines } = capturedLogger();

  beforeAll(async () => {
    endpoint = await startAmqpAuthEndpoint({ instanceId: INSTANCE, ...KEY, port: 0 });
    await pointRabbitMQAuthAt(endpoint.url);
    const setupUrl = new URL(RABBITMQ_URL);
    setupUrl.pathname = '/MQTT';
    publisher = await amqp.connect(setupUrl.href);
    channel = await publisher.createChannel();
    await channel.assertQueue(QUEUE, { durable: false });
  }, 60_000);

  // A test that failed half-way must not leave a consumer competing for the next test's notices.
  afterEach(async () => {
    await Promise.allSettled(consumers.splice(0).map((consumer) => consumer.close()));
  });

  afterAll(async () => {
    await channel?.deleteQueue(QUEUE).catch(() => undefined);
    await publisher?.close().catch(() => undefined);
    await restoreRabbitMQAuth();
    await endpoint?.close();
  }, 60_000);

  const publish = (body: string): void => {
    channel.sendToQueue(QUEUE, Buffer.from(body));
  };
  const readyMessages = async (): Promise<number> => (await channel.checkQueue(QUEUE)).messageCount;

  /** A consumer of this run's queue; `handle` decides each notice (default: applied). */
  function consumer(
    handle: (body: string, meta: NoticeMeta) => Promise<NoticeOutcome> = async () => 'applied',
    overrides: Partial<StatusNoticeConsumerOptions> = {},
  ): { consumer: StatusNoticeConsumer; received: Received[]; events: string[]; logins: () => number } {
    const received: Received[] = [];
    const events: string[] = [];
    let logins = 0;
    const created = new StatusNoticeConsumer({
      url: CONSUMER_URL,
      instanceId: INSTANCE,
      groups: ['GID_test', 'GID_other'],
      queue: QUEUE,
      credentials: async () => (logins++, KEY),
      onNotice: (body, meta) => {
        received.push({ body: body.toString(), meta });
        return handle(body.toString(), meta);
      },
      onConnected: () => events.push('connected'),
      onDisconnected: () => events.push('disconnected'),
      logger,
      reconnectBaseDelayMs: 50,
      reconnectMaxDelayMs: 400,
      redeliveryDelayMs: 20,
      ...overrides,
    });
    consumers.push(created);
    return { consumer: created, received, events, logins: () => logins };
  }

  const allowedLogins = () => endpoint.decisions.filter((decision) => decision.path === '/auth/user' && decision.allowed);

  it('logs in with the signed login, which the broker accepts through the auth endpoint, and consumes on every group', async () => {
    const before = allowedLogins().length;
    const { consumer: subject, events } = consumer();
    await subject.start();
    expect(events).toEqual(['connected']);
    expect(allowedLogins()).toHaveLength(before + 1);
    expect(endpoint.decisions.some((decision) => decision.path === '/auth/vhost' && decision.allowed)).toBe(true);
    await subject.close();
  });

  it('is refused by the broker with a wrong secret, and keeps retrying with a fresh login each time', async () => {
    let attempts = 0;
    const { consumer: subject, events } = consumer(undefined, { credentials: async () => (attempts++, { ...KEY, accessKeySecret: 'wrong-secret' }) });
    const refusedBefore = endpoint.decisions.filter((decision) => decision.reason === 'bad-signature').length;
    void subject.start();
    await waitFor('three refused logins', () => attempts >= 3 && linesSaying(lines, 'status notice login failed').length >= 2);
    expect(events).toEqual([]);
    expect(endpoint.decisions.filter((decision) => decision.reason === 'bad-signature').length - refusedBefore).toBeGreaterThanOrEqual(2);
    expect(linesSaying(lines, 'status notice login failed').every((line) => String(line.err).includes('ACCESS_REFUSED'))).toBe(true);
    await subject.close();
  });

  it('acks a notice only after onNotice resolves: one still running at close is handed back to the broker', async () => {
    const body = JSON.stringify({ clientId: 'GID_test@@@held', eventType: 'connect', channelId: 'c1', time: Date.now() });
    const { consumer: holding, received } = consumer(() => new Promise<NoticeOutcome>(() => undefined), { drainTimeoutMs: 100 });
    await holding.start();
    publish(body);
    await waitFor('the held notice to reach onNotice', () => received.length === 1);
    expect(await readyMessages()).toBe(0);
    await holding.close();
    await waitFor('the unacked notice back in the queue', async () => (await readyMessages()) === 1);

    const { consumer: applying, received: again } = consumer();
    await applying.start();
    await waitFor('the notice redelivered', () => again.length === 1);
    expect(again[0]).toMatchObject({ body, meta: { redelivered: true } });
    await applying.close();
    expect(await readyMessages()).toBe(0);
  });

  it('redelivers a notice whose handler failed (even by throwing), acks it once applied, and keeps consuming', async () => {
    let failures = 0;
    const { consumer: subject, received } = consumer((body) => {
      if (body === 'store down once' && failures++ === 0) throw new Error('Redis is down');
      return Promise.resolve('applied');
    });
    await subject.start();
    publish('store down once');
    publish('next notice');
    await waitFor('the failed notice again, and the next one', () => received.filter(({ body }) => body === 'store down once').length === 2 && received.some(({ body }) => body === 'next notice'));
    expect(received.filter(({ body }) => body === 'store down once').map(({ meta }) => meta.redelivered)).toEqual([false, true]);
    await subject.close();
    expect(await readyMessages()).toBe(0);
    expect(linesSaying(lines, 'handing it back to the broker for redelivery').length).toBeGreaterThan(0);
  });

  it('acks a notice its handler ignores (malformed input is the caller’s verdict)', async () => {
    const { consumer: subject, received } = consumer(async () => 'ignored');
    await subject.start();
    publish('{not json');
    await waitFor('the malformed notice to reach onNotice', () => received.length === 1);
    await subject.close();
    expect(await readyMessages()).toBe(0);
  });

  it('renews make-before-break: a new signed login (another ts) consumes before the old connection closes, and no notice is lost', async () => {
    const own = capturedLogger();
    const { consumer: subject, received, events, logins } = consumer(undefined, { logger: own.logger });
    await subject.start();
    const bodies = Array.from({ length: 300 }, (_, index) => `renewal-${index}`);
    let published = 0;
    const publishing = (async () => {
      for (const body of bodies) {
        publish(body);
        published++;
        if (published % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await subject.renew();
    await publishing;
    await waitFor('every notice published across the renewal', () => new Set(received.map(({ body }) => body)).size === bodies.length);

    expect(events).toEqual(['connected']);
    expect(logins()).toBe(2);
    // Both logins of this test accepted, each signing its own ts.
    expect(new Set(allowedLogins().slice(-2).map(({ signedAtMs }) => signedAtMs)).size).toBe(2);
    await subject.close();
    const order = own.lines
      .map((line) => JSON.parse(line) as { msg: string; connection?: number })
      .filter(({ msg }) => msg === 'status notice connection consuming' || msg === 'status notice connection closed')
      .map(({ msg, connection }) => `${msg.replace('status notice connection ', '')} #${connection}`);
    expect(order).toEqual(['consuming #1', 'consuming #2', 'closed #1', 'closed #2']);
    lines.push(...own.lines);
  });

  it('leaves no wrong status when a consumer is cut off mid-stream holding unacked notices: another applies their redeliveries', async () => {
    // One table for both consumers, as replicas share the Redis one. Each device's history and the
    // status it implies: tcpclean without disconnect, disconnect then tcpclean, a takeover (a second
    // connection before the first one's tcpclean), and a device that stays connected.
    const table = new MemoryPresenceTable({ batchLagMs: 5_000 });
    const sink = new StatusNoticeSink({ instanceId: INSTANCE, groups: ['GID_test'], table, feed: new MemoryChangeFeed() });
    // As the service hands notices to its sink (presence-notices.ts).
    const apply = async (body: string): Promise<NoticeOutcome> => ((await sink.accept(body)) === 'applied' ? 'applied' : 'ignored');
    const at = Date.now() - 60_000;
    const bodies: string[] = [];
    const expected = new Map<string, boolean>();
    const event = (clientId: string, eventType: string, channelId: string, time: number) =>
      bodies.push(JSON.stringify({ clientId, eventType, channelId, clientIp: '10.0.0.9', time }));
    for (let i = 0; i < 60; i++) {
      const clientId = `GID_test@@@cut-${RUN}-${i}`;
      event(clientId, 'connect', 'ch-1', at + i);
      if (i % 3 === 0) event(clientId, 'connect', 'ch-2', at + i + 1);
      if (i % 4 === 1) event(clientId, 'disconnect', 'ch-1', at + i + 2);
      if (i % 2 === 1) event(clientId, 'tcpclean', 'ch-1', at + i + 3);
      expected.set(clientId, i % 3 === 0 || i % 2 === 0);
    }
    // Arbitrary order on top of the redeliveries: the state must not depend on it.
    for (let i = bodies.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [bodies[i], bodies[j]] = [bodies[j], bodies[i]];
    }

    // The first consumer applies a third of what it gets, then hangs on the rest (unacked) until the
    // broker cuts it off, as a replica killed mid-stream would be.
    let applied = 0;
    const { consumer: cutOff, received } = consumer((body) => (applied++ < bodies.length / 3 ? apply(body) : new Promise<NoticeOutcome>(() => undefined)), {
      drainTimeoutMs: 50,
    });
    await cutOff.start();
    for (const body of bodies) publish(body);
    await waitFor('every notice delivered to the first consumer', () => received.length === bodies.length);
    await dropConnectionsOf(USERNAME);
    await cutOff.close();

    const { consumer: survivor } = consumer(apply);
    await survivor.start();
    const statuses = async () => (await table.getMany([...expected.keys()].map((clientId) => ({ instanceId: INSTANCE, clientId })))).map((entry) => entry?.online);
    await waitFor('every redelivered notice applied', async () => (await readyMessages()) === 0 && (await statuses()).every((online) => online !== undefined), 15_000);
    expect(await statuses()).toEqual([...expected.values()]);
    expect(await table.countGroup(INSTANCE, 'GID_test')).toEqual({ online: [...expected.values()].filter(Boolean).length, known: expected.size });
    await survivor.close();
  });

  it('reconnects with backoff after the broker drops the connection, bracketing the gap with onDisconnected and onConnected', async () => {
    const { consumer: subject, received, events, logins } = consumer();
    await subject.start();
    await dropConnectionsOf(USERNAME);
    await waitFor('the consumer back', () => events.length === 3);
    expect(events).toEqual(['connected', 'disconnected', 'connected']);
    expect(logins()).toBe(2);
    publish('after the drop');
    await waitFor('a notice after the reconnection', () => received.some(({ body }) => body === 'after the drop'));
    await subject.close();
  });

  it('never logs the secret or the signed username', () => {
    const all = lines.join('\n');
    expect(all).not.toContain(KEY.accessKeySecret);
    expect(all).not.toContain(USERNAME);
  });
});
