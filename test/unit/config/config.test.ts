import { ConfigError, LOCAL_DEFAULTS, loadConfig } from '../../../src/config';

describe('loadConfig', () => {
  it('starts on the local instance with the documented defaults when nothing is configured', () => {
    const config = loadConfig({});
    expect(config.source).toBe('local');
    expect(config.port).toBe(4000);
    expect(config.defaultInstanceId).toBe(LOCAL_DEFAULTS.instanceId);
    expect(config.local.mqttPort).toBe(1883);
    expect(config.presence).toMatchObject({ batchQps: 100, exactQps: 500, maxIdsPerRequest: 100 });
  });

  it('returns a frozen config, so nothing can change it behind the services that read it', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.presence)).toBe(true);
  });

  it('rejects a bad number with a message naming the variable and the value', () => {
    expect(() => loadConfig({ UPSTREAM_BATCH_QPS: 'fast' })).toThrow(new ConfigError('UPSTREAM_BATCH_QPS must be a whole number from 1 to 100000; got "fast"'));
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT must be a whole number from 0 to 65535; got "70000"/);
  });

  it('rejects an unknown presence source', () => {
    expect(() => loadConfig({ PRESENCE_SOURCE: 'aliyun' })).toThrow(/PRESENCE_SOURCE must be one of local, alibaba; got "aliyun"/);
  });

  it('needs a region or an endpoint to reach Alibaba Cloud', () => {
    expect(() => loadConfig({ PRESENCE_SOURCE: 'alibaba' })).toThrow(/ALIBABA_CLOUD_REGION_ID .* or ONSMQTT_ENDPOINT/);
    expect(loadConfig({ PRESENCE_SOURCE: 'alibaba', ALIBABA_CLOUD_REGION_ID: 'cn-hangzhou' }).upstream.regionId).toBe('cn-hangzhou');
  });

  it('has no default instance on Alibaba Cloud unless MQTT_INSTANCE_ID names one', () => {
    expect(loadConfig({ PRESENCE_SOURCE: 'alibaba', ONSMQTT_ENDPOINT: 'http://127.0.0.1:9000' }).defaultInstanceId).toBeUndefined();
    expect(
      loadConfig({ PRESENCE_SOURCE: 'alibaba', ONSMQTT_ENDPOINT: 'http://127.0.0.1:9000', MQTT_INSTANCE_ID: 'post-cn-abc' }).defaultInstanceId,
    ).toBe('post-cn-abc');
  });

  it('accepts only http and https endpoints', () => {
    expect(() => loadConfig({ ONSMQTT_ENDPOINT: 'ftp://example' })).toThrow(/ONSMQTT_ENDPOINT must use http or https/);
    expect(() => loadConfig({ ONSMQTT_ENDPOINT: 'not a url' })).toThrow(/ONSMQTT_ENDPOINT must be a URL/);
  });
});
