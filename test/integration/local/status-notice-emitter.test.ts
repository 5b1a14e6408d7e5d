import { connectAsync, type MqttClient } from 'mqtt';
import { LiveSessions } from '../../../src/local/live-sessions';
import { startMqttBroker, type MqttBroker } from '../../../src/local/mqtt-broker';
import {
  StatusNoticeEmitter,
  type LocalStatusNotices,
  type WireStatusNotice,
} from '../../../src/local/status-notice-emitter';

/** Every notice a subscriber received, in order, and a way to wait for the one a test expects. */
class NoticeLog {
  readonly received: Array<{ body: Buffer; notice: Readonly<WireStatusNotice> }> = [];
  private readonly waiters = new Set<() => void>();

  constructor(source: LocalStatusNotices) {
    source.subscribe((body, notice) => {
      this.received.push({ body, notice });
      for (const check of [...this.waiters]) check();
    });
  }

  of(clientId: string): Array<Readonly<WireStatusNotice>> {
    return this.received.filter(({ notice }) => notice.clientId === clientId).map(({ notice }) => notice);
  }

  events(clientId: string): string[] {
    return this.of(clientId).map(({ eventType, channelId }) => `${eventType} ${channelId}`);
  }

  /** Resolves once `clientId` has had `count` notices of `eventType`; checked on every notice. */
  until(clientId: string, eventType: WireStatusNotice['eventType'], count = 1): Promise<void> {
    const reached = (): boolean => this.of(clientId).filter((notice) => notice.eventType === eventType).length >= count;
    if (reached()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${count} × ${eventType} for ${clientId} within 5 s; got ${JSON.stringify(this.events(clientId))}`));
      }, 5000);
      const check = (): void => {
        if (!reached()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }
}

const connect = (url: string, clientId: string): Promise<MqttClient> => connectAsync(url, { clientId, reconnectPeriod: 0 }, false);
const closed = (client: MqttClient): Promise<void> => new Promise((resolve) => client.once('close', () => resolve()));

async function startObservedBroker(): Promise<{ broker: MqttBroker; notices: StatusNoticeEmitter; log: NoticeLog }> {
  const notices = new StatusNoticeEmitter();
  const log = new NoticeLog(notices);
  const broker = await startMqttBroker({ host: '127.0.0.1', port: 0, sessions: new LiveSessions(), observe: (aedes) => notices.observe(aedes) });
  return { broker, notices, log };
}

describe('status notices of the embedded broker', () => {
  let broker: MqttBroker;
  let notices: StatusNoticeEmitter;
  let log: NoticeLog;
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    ({ broker, notices, log } = await startObservedBroker());
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await broker.close();
  });

  it('sends one connect notice once CONNACK accepts the client, with a channel ID, the client IP and the time', async () => {
    const before = Date.now();
    clients.push(await connect(broker.url, 'GID_test@@@connects'));
    await log.until('GID_test@@@connects', 'connect');

    const [connectNotice] = log.of('GID_test@@@connects');
    expect(log.of('GID_test@@@connects')).toHaveLength(1);
    expect(connectNotice).toEqual({
      clientId: 'GID_test@@@connects',
      eventType: 'connect',
      channelId: expect.stringMatching(/^[0-9a-f]{16}-\d+$/),
      clientIp: '127.0.0.1',
      time: expect.any(Number),
    });
    expect(connectNotice.time).toBeGreaterThanOrEqual(before);
    expect(connectNotice.time).toBeLessThanOrEqual(Date.now());
  });

  it('delivers the body the cloud sends: its JSON fields in its order, and the same notice parsed', async () => {
    clients.push(await connect(broker.url, 'GID_test@@@body'));
    await log.until('GID_test@@@body', 'connect');

    const { body, notice } = log.received.find((entry) => entry.notice.clientId === 'GID_test@@@body')!;
    expect(Buffer.isBuffer(body)).toBe(true);
    expect(Object.keys(JSON.parse(body.toString('utf8')))).toEqual(['clientId', 'eventType', 'channelId', 'clientIp', 'time']);
    expect(JSON.parse(body.toString('utf8'))).toEqual(notice);
  });

  it('sends disconnect, then tcpclean on the same channel, when the client sends DISCONNECT [MQTT-3.14.4-1]', async () => {
    const client = await connect(broker.url, 'GID_test@@@says-goodbye');
    await log.until('GID_test@@@says-goodbye', 'connect');
    await client.endAsync();
    await log.until('GID_test@@@says-goodbye', 'tcpclean');

    const [{ channelId }] = log.of('GID_test@@@says-goodbye');
    expect(log.events('GID_test@@@says-goodbye')).toEqual([`connect ${channelId}`, `disconnect ${channelId}`, `tcpclean ${channelId}`]);
  });

  it('sends tcpclean alone when the connection drops without DISCONNECT', async () => {
    const client = await connect(broker.url, 'GID_test@@@drops');
    await log.until('GID_test@@@drops', 'connect');
    client.stream.destroy();
    await log.until('GID_test@@@drops', 'tcpclean');
    await client.endAsync(true);

    const [{ channelId }] = log.of('GID_test@@@drops');
    expect(log.events('GID_test@@@drops')).toEqual([`connect ${channelId}`, `tcpclean ${channelId}`]);
  });

  it('reports a session takeover [MQTT-3.1.4-2] as two channels: the new one connects, the old one is cleaned', async () => {
    const clientId = 'GID_test@@@taken-over';
    const first = await connect(broker.url, clientId);
    await log.until(clientId, 'connect');
    const firstClosed = closed(first);
    const second = await connect(broker.url, clientId);
    clients.push(first, second);
    await firstClosed;
    await log.until(clientId, 'connect', 2);
    await log.until(clientId, 'tcpclean');

    const [oldChannel, newChannel] = log.of(clientId).filter((notice) => notice.eventType === 'connect').map((notice) => notice.channelId);
    expect(newChannel).not.toBe(oldChannel);
    // aedes closes the old connection before it writes the new CONNACK, and the old socket's `close`
    // and the new `connackSent` race across event-loop phases: the order between the two is not asserted.
    expect(log.events(clientId)).toEqual(expect.arrayContaining([`connect ${newChannel}`, `tcpclean ${oldChannel}`]));
    expect(log.events(clientId)).toHaveLength(3);
    expect(log.events(clientId)[0]).toBe(`connect ${oldChannel}`);
  });

  it('sends nothing for a Client ID that is not <GroupID>@@@<DeviceID>: CONNACK refuses it, no channel opens', async () => {
    await expect(connect(broker.url, 'mqttjs_plain')).rejects.toThrow(/Identifier rejected/i);
    // Notices come in the order the broker sees connections: once a later client's connect is in,
    // anything the refused one could have caused would be in too.
    clients.push(await connect(broker.url, 'GID_test@@@after-refused'));
    await log.until('GID_test@@@after-refused', 'connect');

    expect(log.of('mqttjs_plain')).toEqual([]);
  });

  it('replays the connect notice of every open channel to a subscriber that asks, before anything newer', async () => {
    const clientId = 'GID_test@@@open-before-subscribe';
    clients.push(await connect(broker.url, clientId));
    await log.until(clientId, 'connect');
    const original = log.received.find((entry) => entry.notice.clientId === clientId)!;

    const replayed: string[] = [];
    const unsubscribe = notices.subscribe((body) => replayed.push(body.toString('utf8')), { replayOpenChannels: true });
    unsubscribe();

    expect(replayed).toContain(original.body.toString('utf8'));
    expect(replayed.map((body) => JSON.parse(body).eventType)).toEqual(replayed.map(() => 'connect'));
    expect(replayed.some((body) => JSON.parse(body).clientId === 'GID_test@@@drops')).toBe(false);
  });

  it('keeps delivering to the other subscribers when one throws', async () => {
    const unsubscribe = notices.subscribe(() => {
      throw new Error('a broken subscriber');
    });
    try {
      clients.push(await connect(broker.url, 'GID_test@@@despite-a-throw'));
      await log.until('GID_test@@@despite-a-throw', 'connect');
    } finally {
      unsubscribe();
    }
  });

  it('has sent tcpclean for every open channel by the time close() of the broker resolves', async () => {
    const own = await startObservedBroker();
    const a = await connect(own.broker.url, 'GID_test@@@open-at-close-a');
    const b = await connect(own.broker.url, 'GID_test@@@open-at-close-b');
    await own.log.until('GID_test@@@open-at-close-a', 'connect');
    await own.log.until('GID_test@@@open-at-close-b', 'connect');

    await own.broker.close();

    for (const clientId of ['GID_test@@@open-at-close-a', 'GID_test@@@open-at-close-b']) {
      const [{ channelId }] = own.log.of(clientId);
      expect(own.log.events(clientId)).toEqual([`connect ${channelId}`, `tcpclean ${channelId}`]);
    }
    await Promise.all([a.endAsync(true), b.endAsync(true)]);
  });

  it('observes one broker only', () => {
    const emitter = new StatusNoticeEmitter();
    emitter.observe({ on: () => undefined } as never);
    expect(() => emitter.observe({ on: () => undefined } as never)).toThrow(/one broker/);
  });
});
