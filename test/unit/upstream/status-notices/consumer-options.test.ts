import pino from 'pino';
import { StatusNoticeConsumer, type StatusNoticeConsumerOptions } from '../../../../src/upstream/status-notices/status-notice-consumer';

const valid: StatusNoticeConsumerOptions = {
  url: 'amqps://mqtt-cn-test.mqtt.aliyuncs.com',
  instanceId: 'mqtt-cn-test',
  groups: ['GID_a'],
  credentials: async () => ({ accessKeyId: 'id', accessKeySecret: 'secret' }),
  onNotice: async () => 'applied',
  logger: pino({ enabled: false }),
};
const construct = (overrides: Partial<StatusNoticeConsumerOptions>) => () => new StatusNoticeConsumer({ ...valid, ...overrides });

describe('StatusNoticeConsumer options (checked at construction, naming the option)', () => {
  it('accepts the instance endpoint with or without a port, and the vhost path /MQTT', () => {
    for (const url of ['amqps://host', 'amqp://host:5672', 'amqp://host/', 'amqp://host/MQTT', 'amqp://[::1]:5672']) expect(construct({ url })).not.toThrow();
  });

  it('refuses user:password in the url without echoing it: the login is always the signed one', () => {
    expect(construct({ url: 'amqp://guest:hunter2@host' })).toThrow(/must not carry user:password/);
    expect(construct({ url: 'amqp://guest:hunter2@host' })).not.toThrow(/hunter2/);
  });

  it('refuses another scheme, another vhost, or a query string', () => {
    expect(construct({ url: 'http://host' })).toThrow('url must use amqp:// or amqps://; got http://');
    expect(construct({ url: 'amqp://host/other' })).toThrow('url names vhost "other"');
    expect(construct({ url: 'amqp://host?heartbeat=5' })).toThrow('must not carry a query string');
    expect(construct({ url: 'not a url' })).toThrow('url must be an amqp:// or amqps:// URL');
  });

  it('needs at least one Group ID, none repeated', () => {
    expect(construct({ groups: [] })).toThrow('groups must list at least one MQTT Group ID');
    expect(construct({ groups: ['GID_a', 'GID_a'] })).toThrow('groups must not repeat a Group ID');
  });

  it('bounds prefetch to a non-zero 16-bit count and checks every duration', () => {
    expect(construct({ prefetch: 0 })).toThrow('prefetch must be a whole number ≥ 1; got 0');
    expect(construct({ prefetch: 70_000 })).toThrow('prefetch must be at most 65535');
    expect(construct({ heartbeatSeconds: 0.5 })).toThrow('heartbeatSeconds must be a whole number ≥ 1');
    expect(construct({ reconnectBaseDelayMs: 1000, reconnectMaxDelayMs: 500 })).toThrow('reconnectMaxDelayMs must be a finite number ≥ 1000; got 500');
    expect(construct({ renewEveryMs: 10 })).toThrow('renewEveryMs must be a finite number ≥ 1000; got 10');
  });

  it('can be started once only, and renewed only while running', async () => {
    const consumer = new StatusNoticeConsumer(valid);
    await expect(consumer.renew()).rejects.toThrow('renew() needs a running consumer (now idle)');
    await consumer.close();
    expect(() => consumer.start()).toThrow('start() may be called once (now closed)');
  });
});
