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

  it('writes logs for a person at a terminal and JSON lines otherwise, unless LOG_FORMAT forces one', () => {
    expect(loadConfig({}).logFormat).toBe('auto');
    expect(loadConfig({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
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

  it('leaves the partial-call spacing to the dispatcher unless UPSTREAM_PARTIAL_BATCH_INTERVAL_MS sets it (0: packing off)', () => {
    expect(loadConfig({}).presence.partialBatchIntervalMs).toBeUndefined();
    expect(loadConfig({ UPSTREAM_PARTIAL_BATCH_INTERVAL_MS: '0' }).presence.partialBatchIntervalMs).toBe(0);
    expect(() => loadConfig({ UPSTREAM_PARTIAL_BATCH_INTERVAL_MS: '-1' })).toThrow(/UPSTREAM_PARTIAL_BATCH_INTERVAL_MS must be a whole number from 0 to 10000; got "-1"/);
  });

  it('retries for UPSTREAM_RETRY_TOTAL_MS with UPSTREAM_RETRY_MAX_ATTEMPTS only as a bound, and slows the budget for UPSTREAM_THROTTLE_SLOWDOWN_MS after a throttled answer', () => {
    expect(loadConfig({}).presence).toMatchObject({ retryMaxAttempts: 10, retryTotalMs: 3000, throttleSlowdownMs: 2000 });
    const set = loadConfig({ UPSTREAM_RETRY_MAX_ATTEMPTS: '100', UPSTREAM_THROTTLE_SLOWDOWN_MS: '0' }).presence;
    expect(set).toMatchObject({ retryMaxAttempts: 100, throttleSlowdownMs: 0 });
    expect(() => loadConfig({ UPSTREAM_RETRY_MAX_ATTEMPTS: '101' })).toThrow(/UPSTREAM_RETRY_MAX_ATTEMPTS must be a whole number from 1 to 100; got "101"/);
    expect(() => loadConfig({ UPSTREAM_THROTTLE_SLOWDOWN_MS: '1.5' })).toThrow(/UPSTREAM_THROTTLE_SLOWDOWN_MS must be a whole number from 0 to 60000; got "1.5"/);
  });

  it('rejects an unknown presence source', () => {
    expect(() => loadConfig({ PRESENCE_SOURCE: 'aliyun' })).toThrow(/PRESENCE_SOURCE must be one of local, alibaba; got "aliyun"/);
  });

  it('needs a region or an endpoint to reach Alibaba Cloud', () => {
    expect(() => loadConfig({ PRESENCE_SOURCE: 'alibaba' })).toThrow(/ALIBABA_CLOUD_REGION_ID .* or ONSMQTT_ENDPOINT/);
    expect(loadConfig({ PRESENCE_SOURCE: 'alibaba', ALIBABA_CLOUD_REGION_ID: 'cn-hangzhou', ALLOW_ANONYMOUS: 'true' }).upstream.regionId).toBe('cn-hangzhou');
  });

  it('has no default instance on Alibaba Cloud unless MQTT_INSTANCE_ID names one', () => {
    expect(loadConfig({ PRESENCE_SOURCE: 'alibaba', ONSMQTT_ENDPOINT: 'http://127.0.0.1:9000', ALLOW_ANONYMOUS: 'true' }).defaultInstanceId).toBeUndefined();
    expect(
      loadConfig({ PRESENCE_SOURCE: 'alibaba', ONSMQTT_ENDPOINT: 'http://127.0.0.1:9000', ALLOW_ANONYMOUS: 'true', MQTT_INSTANCE_ID: 'post-cn-abc' }).defaultInstanceId,
    ).toBe('post-cn-abc');
  });

  it('accepts only http and https endpoints', () => {
    expect(() => loadConfig({ ONSMQTT_ENDPOINT: 'ftp://example' })).toThrow(/ONSMQTT_ENDPOINT must use http or https/);
    expect(() => loadConfig({ ONSMQTT_ENDPOINT: 'not a url' })).toThrow(/ONSMQTT_ENDPOINT must be a URL/);
  });

  it('accepts a redis:// or rediss:// REDIS_URL and refuses anything else without repeating it (it may hold a password)', () => {
    expect(loadConfig({ REDIS_URL: 'redis://:s3cret@10.0.0.5:6380/2' }).redisUrl).toBe('redis://:s3cret@10.0.0.5:6380/2');
    expect(loadConfig({ REDIS_URL: 'rediss://cache.example.com' }).redisUrl).toBe('rediss://cache.example.com');
    for (const bad of ['notaurl', 'http://127.0.0.1:6379', '127.0.0.1:6379', 'redis://:hunter2@']) {
      expect(() => loadConfig({ REDIS_URL: bad })).toThrow(/^REDIS_URL must be a URL such as redis:\/\/127\.0\.0\.1:6379 \(rediss:\/\/ for TLS\)/);
      expect(() => loadConfig({ REDIS_URL: bad })).not.toThrow(/hunter2|notaurl|http:\/\/127/);
    }
  });

  it('reads the circuit breaker, the Redis key prefix and the local instance limits, with their documented defaults', () => {
    const defaults = loadConfig({});
    expect(defaults.presence).toMatchObject({ breakerFailures: 5, breakerCoolDownMs: 5000 });
    expect(defaults.redisKeyPrefix).toBe('presence-graph:');
    expect(defaults.upstreamReplicas).toBe(2);
    expect(defaults.local).toMatchObject({ batchQps: 100, exactQps: 500 });

    const set = loadConfig({
      UPSTREAM_BREAKER_FAILURES: '3',
      UPSTREAM_BREAKER_COOLDOWN_MS: '800',
      REDIS_KEY_PREFIX: 'fleet-a:',
      LOCAL_BATCH_QPS: '20',
      LOCAL_EXACT_QPS: '50',
    });
    expect(set.presence).toMatchObject({ breakerFailures: 3, breakerCoolDownMs: 800 });
    expect(set.redisKeyPrefix).toBe('fleet-a:');
    expect(set.local).toMatchObject({ batchQps: 20, exactQps: 50 });
    expect(() => loadConfig({ UPSTREAM_BREAKER_FAILURES: '0' })).toThrow(/UPSTREAM_BREAKER_FAILURES must be a whole number from 1 to 1000; got "0"/);
  });
});
