import { startAmqpNoticePublisher, type AmqpNoticePublisher, type AmqpNoticePublisherOptions } from '../../../src/local/amqp-notice-publisher';
import type { LocalLogger } from '../../../src/local/logger';
import { describeWithRabbitMQ, RABBITMQ_URL } from '../../support/rabbitmq';
import { closedPort } from '../../support/redis';
import { assertDurableAndDelete, closeConnectionNamed, ensureStatusVhost, startRabbitMqProxy, takeAll, uniqueName } from './status-queue';

/** Notice bodies as the emitter makes them, numbered so order shows. */
const bodies = (from: number, count: number): Buffer[] =>
  Array.from({ length: count }, (_, i) =>
    Buffer.from(JSON.stringify({ clientId: `GID_test@@@device-${from + i}`, eventType: 'connect', channelId: `c-${from + i}`, clientIp: '127.0.0.1', time: 1_700_000_000_000 + from + i })),
  );
const text = (buffers: Buffer[]): string[] => buffers.map((buffer) => buffer.toString('utf8'));

/** At least once: a redelivered notice may appear twice; what counts is that each arrives, in first-arrival order. */
const firstArrivals = (received: string[]): string[] => [...new Set(received)];

/** Log lines kept as JSON, and a promise for the first one whose message matches. */
function recordingLogger(): { logger: LocalLogger; lines: string[]; next(pattern: RegExp): Promise<void> } {
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const record = (...args: unknown[]): void => {
    const line = JSON.stringify(args);
    lines.push(line);
    for (const waiter of waiters.filter(({ pattern }) => pattern.test(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  return {
    logger: { info: record, warn: record } as LocalLogger,
    lines,
    next: (pattern) => new Promise((resolve) => waiters.push({ pattern, resolve })),
  };
}

describe('AMQP status notice publisher: options', () => {
  it('refuses a url that selects another virtual host than MQTT, without echoing the password', () => {
    expect(() => startAmqpNoticePublisher({ url: 'amqp://setup:s3cret-pw@127.0.0.1:5672/other' })).toThrow(/virtual host "other".*always go to MQTT/);
    expect(() => startAmqpNoticePublisher({ url: 'amqp://setup:s3cret-pw@127.0.0.1:5672/other' })).not.toThrow(/s3cret-pw/);
  });

  it('refuses what is not an amqp: or amqps: URL, and a buffer bound that is not a positive whole number', () => {
    expect(() => startAmqpNoticePublisher({ url: 'http://127.0.0.1:5672' })).toThrow(/url must use amqp: or amqps:/);
    expect(() => startAmqpNoticePublisher({ url: 'not a url :s3cret-pw' })).toThrow(/^url must be an absolute amqp/);
    expect(() => startAmqpNoticePublisher({ url: 'amqp://127.0.0.1', maxBufferedNotices: 0 })).toThrow(/maxBufferedNotices must be a positive whole number; got 0/);
    expect(() => startAmqpNoticePublisher({ url: 'amqp://127.0.0.1', reconnectDelayMs: 100, maxReconnectDelayMs: 10 })).toThrow(/maxReconnectDelayMs \(10\) must not be below reconnectDelayMs \(100\)/);
  });

  it('keeps at most maxBufferedNotices while no broker answers, dropping the oldest and counting them, and never logs the password', async () => {
    const port = await closedPort();
    const { logger, lines, next } = recordingLogger();
    const retrying = next(/cannot publish status notices/);
    const publisher = startAmqpNoticePublisher({ url: `amqp://setup:s3cret-pw@127.0.0.1:${port}`, maxBufferedNotices: 3, logger });
    for (const body of bodies(0, 5)) publisher.publish(body);
    await retrying;

    expect(publisher.bufferedNotices).toBe(3);
    expect(publisher.droppedNotices).toBe(2);
    await publisher.close();
    expect(publisher.droppedNotices).toBe(5);
    expect(lines.join('\n')).not.toContain('s3cret-pw');
    expect(lines.join('\n')).toContain(`amqp://127.0.0.1:${port}/MQTT`);
  });
});

describeWithRabbitMQ('AMQP status notice publisher against RabbitMQ', ['amqp', 'rabbitmqctl'], () => {
  const started: AmqpNoticePublisher[] = [];
  const queues: string[] = [];
  const start = (options: Partial<AmqpNoticePublisherOptions> & { queue: string }): AmqpNoticePublisher => {
    queues.push(options.queue);
    const publisher = startAmqpNoticePublisher({ url: RABBITMQ_URL, reconnectDelayMs: 20, maxReconnectDelayMs: 200, ...options });
    started.push(publisher);
    return publisher;
  };
  beforeAll(ensureStatusVhost);
  afterAll(async () => {
    await Promise.all(started.map((publisher) => publisher.close()));
    await Promise.all(queues.map(assertDurableAndDelete));
  });

  it('publishes every notice to a durable queue in vhost MQTT, as persistent messages, in order, bodies unchanged', async () => {
    const queue = uniqueName('status');
    const { logger, lines } = recordingLogger();
    const publisher = start({ queue, logger });
    const sent = bodies(0, 50);
    for (const body of sent) publisher.publish(body);
    await publisher.flushed();

    const received = await takeAll(queue);
    expect(received.map((message) => message.body)).toEqual(text(sent));
    expect(received.every((message) => message.persistent)).toBe(true);
    expect(publisher.bufferedNotices).toBe(0);
    expect(lines.join('\n')).toContain(`"url":"amqp://127.0.0.1:5672/MQTT"`);
    expect(lines.join('\n')).not.toContain('guest:guest');
  });

  it('survives the broker closing its connection: notices published after it all arrive, oldest first', async () => {
    const queue = uniqueName('status');
    const connectionName = uniqueName('publisher');
    const { logger, next } = recordingLogger();
    const publisher = start({ queue, connectionName, logger });
    const lostConnection = next(/lost the AMQP connection/);
    const before = bodies(0, 5);
    for (const body of before) publisher.publish(body);
    await publisher.flushed();

    await closeConnectionNamed(connectionName);
    const after = bodies(5, 5);
    for (const body of after) publisher.publish(body);
    await publisher.flushed();
    await lostConnection;

    const received = (await takeAll(queue)).map((message) => message.body);
    expect(firstArrivals(received)).toEqual(text([...before, ...after]));
  });

  it('buffers while the broker is away and delivers the newest maxBufferedNotices once it is back, counting the dropped', async () => {
    const queue = uniqueName('status');
    const proxy = await startRabbitMqProxy();
    const { logger, next } = recordingLogger();
    try {
      const publisher = start({ queue, url: proxy.url, maxBufferedNotices: 3, logger });
      const before = bodies(0, 2);
      for (const body of before) publisher.publish(body);
      await publisher.flushed();

      const noticedLoss = next(/lost the AMQP connection/);
      await proxy.cut();
      await noticedLoss;
      const during = bodies(2, 5);
      for (const body of during) publisher.publish(body);
      expect(publisher.droppedNotices).toBe(2);
      await proxy.restore();
      await publisher.flushed();

      const received = (await takeAll(queue)).map((message) => message.body);
      expect(firstArrivals(received)).toEqual(text([...before, ...during.slice(2)]));
    } finally {
      await proxy.close();
    }
  });
});
