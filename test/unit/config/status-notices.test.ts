import { ConfigError, loadConfig } from '../../../src/config';

// Anonymous on purpose: these tests are about notices, not callers (security.test.ts is).
const alibaba = { PRESENCE_SOURCE: 'alibaba', ALIBABA_CLOUD_REGION_ID: 'cn-hangzhou', ALLOW_ANONYMOUS: 'true' };
const cloudNotices = { ...alibaba, MQTT_INSTANCE_ID: 'mqtt-cn-abc', STATUS_NOTICES_URL: 'amqps://mqtt-cn-abc.mqtt.aliyuncs.com:5671', STATUS_NOTICES_GROUPS: 'GID_fleet, GID_lab' };

describe('loadConfig: status notices', () => {
  it('are on for the local instance, in-process, with the documented defaults', () => {
    expect(loadConfig({}).statusNotices).toEqual({
      enabled: true,
      url: undefined,
      groups: [],
      maxGapMs: 10000,
      batchLagMs: 5000,
      verifyShare: 0.1,
      verifyMinAgeMs: 60000,
    });
    expect(loadConfig({ STATUS_NOTICES: 'off' }).statusNotices.enabled).toBe(false);
  });

  it('are off on Alibaba Cloud until STATUS_NOTICES_URL names the instance\'s AMQP endpoint', () => {
    expect(loadConfig(alibaba).statusNotices.enabled).toBe(false);
    const config = loadConfig({ ...cloudNotices, UPSTREAM_REPLICAS: '1' });
    expect(config.statusNotices).toMatchObject({ enabled: true, url: cloudNotices.STATUS_NOTICES_URL, groups: ['GID_fleet', 'GID_lab'] });
  });

  it('need the Group IDs to consume on Alibaba Cloud, and say how to turn them off', () => {
    expect(() => loadConfig({ ...alibaba, STATUS_NOTICES: 'on' })).toThrow(/needs STATUS_NOTICES_URL .* and STATUS_NOTICES_GROUPS .*; or set STATUS_NOTICES=off/);
    expect(() => loadConfig({ ...alibaba, STATUS_NOTICES_URL: cloudNotices.STATUS_NOTICES_URL, UPSTREAM_REPLICAS: '1' })).toThrow(/STATUS_NOTICES_GROUPS/);
  });

  it('need the instance whose STATUS queue they consume', () => {
    const { MQTT_INSTANCE_ID: _instance, ...withoutInstance } = cloudNotices;
    expect(() => loadConfig({ ...withoutInstance, UPSTREAM_REPLICAS: '1' })).toThrow(/Status notices need MQTT_INSTANCE_ID/);
  });

  it('refuse several replicas without a shared table: competing consumers each see only part of the notices', () => {
    expect(() => loadConfig(cloudNotices)).toThrow(/UPSTREAM_REPLICAS=2 need REDIS_URL/);
    expect(loadConfig({ ...cloudNotices, REDIS_URL: 'redis://127.0.0.1:6379' }).statusNotices.enabled).toBe(true);
  });

  it('take only an amqp(s) URL without a user or password, and never quote it back', () => {
    const withPassword = 'amqps://user:hunter2@mqtt.example.com:5671';
    expect(() => loadConfig({ ...cloudNotices, UPSTREAM_REPLICAS: '1', STATUS_NOTICES_URL: withPassword })).toThrow(/must not carry a user or password/);
    expect(() => loadConfig({ ...cloudNotices, UPSTREAM_REPLICAS: '1', STATUS_NOTICES_URL: withPassword })).not.toThrow(/hunter2/);
    expect(() => loadConfig({ ...cloudNotices, UPSTREAM_REPLICAS: '1', STATUS_NOTICES_URL: 'https://x' })).toThrow(
      new ConfigError('STATUS_NOTICES_URL must be a URL such as amqps://mqtt-cn-xxx.mqtt.aliyuncs.com:5671 (amqp:// without TLS); the value given is not (not shown)'),
    );
  });

  it('let the local instance publish to a real broker, whose set-up user may be in the URL', () => {
    const config = loadConfig({ LOCAL_STATUS_NOTICES_URL: 'amqp://guest:guest@127.0.0.1:5672' });
    expect(config.local).toMatchObject({ noticesUrl: 'amqp://guest:guest@127.0.0.1:5672', amqpAuthPort: 15680 });
    expect(() => loadConfig({ LOCAL_STATUS_NOTICES_URL: 'amqp://127.0.0.1', STATUS_NOTICES_URL: 'amqp://127.0.0.1' })).toThrow(/not both/);
  });
});
