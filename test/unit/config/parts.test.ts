import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { localInstanceConfig, LOCAL_DEFAULTS, LOCAL_MQTT_FALLBACK_PORT } from '../../../src/config/local';
import { presenceConfig, subscriptionConfig } from '../../../src/config/presence';
import { redisSettings } from '../../../src/config/redis';
import { upstreamConfig } from '../../../src/config/upstream';
import { webConfig } from '../../../src/config/web';

// Each concern's part reads its own variables and validates them on its own; loadConfig only
// composes them (test/unit/config/config.test.ts and the others check the whole).
describe('config parts, each on its own', () => {
  it('local: the fixed development identity and ports, with a range check per port', () => {
    expect(localInstanceConfig({})).toMatchObject({ ...LOCAL_DEFAULTS, host: '127.0.0.1', mqttPort: 1883, openApiPort: 0, batchLagMs: 1000, demoDevices: 3 });
    expect(() => localInstanceConfig({ LOCAL_MQTT_PORT: '65536' })).toThrow(/LOCAL_MQTT_PORT must be a whole number from 0 to 65535/);
  });

  it('local: 1883, else the fixed fallback 18830 when LOCAL_MQTT_PORT is unset; a port given explicitly has no fallback', () => {
    expect(localInstanceConfig({})).toMatchObject({ mqttPort: 1883, mqttFallbackPort: LOCAL_MQTT_FALLBACK_PORT });
    expect(LOCAL_MQTT_FALLBACK_PORT).toBe(18830);
    expect(localInstanceConfig({ LOCAL_MQTT_PORT: '1883' }).mqttFallbackPort).toBeUndefined();
    expect(localInstanceConfig({ LOCAL_MQTT_PORT: '0' }).mqttFallbackPort).toBeUndefined();
  });

  it('local: the runtime file `npm run devices` reads, per user under the temporary folder unless LOCAL_RUNTIME_FILE says', () => {
    expect(localInstanceConfig({}).runtimeFile).toBe(join(tmpdir(), `presence-graph-${userInfo().uid}`, 'local-instance.json'));
    expect(localInstanceConfig({ LOCAL_RUNTIME_FILE: '/run/pg/local.json' }).runtimeFile).toBe('/run/pg/local.json');
  });

  it('upstream: a region or an endpoint for Alibaba Cloud, and an AccessKey pair given whole', () => {
    expect(upstreamConfig({ ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' }, 'local')).toEqual({
      regionId: undefined,
      endpoint: undefined,
      connectTimeoutMs: 2000,
      readTimeoutMs: 5000,
      credentials: { requested: 'chain', candidates: [{ source: 'profile', cliProfileDisabled: false }] },
    });
    expect(() => upstreamConfig({}, 'alibaba')).toThrow(/PRESENCE_SOURCE=alibaba needs ALIBABA_CLOUD_REGION_ID/);
    expect(() => upstreamConfig({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI' }, 'local')).toThrow(/must be set together/);
    expect(
      upstreamConfig({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's', ALIBABA_CLOUD_SECURITY_TOKEN: 't' }, 'local').credentials.candidates[0],
    ).toEqual({ source: 'env', accessKeyId: 'LTAI', accessKeySecret: 's', securityToken: 't' });
  });

  it('presence: the account budgets of upstream-api.md and the request cap by default', () => {
    expect(presenceConfig({})).toMatchObject({ batchQps: 100, exactQps: 500, maxIdsPerRequest: 100, cacheTtlMs: 1000, retryMaxAttempts: 10 });
    expect(() => presenceConfig({ MAX_IDS_PER_REQUEST: '0' })).toThrow(/MAX_IDS_PER_REQUEST must be a whole number from 1 to 10000/);
    expect(subscriptionConfig({ SUBSCRIPTION_POLL_INTERVAL_MS: '250' })).toEqual({ pollIntervalMs: 250, budgetShare: 0.2 });
  });

  it('redis: nothing shared unless REDIS_URL is set, and a malformed one never quoted', () => {
    expect(redisSettings({})).toEqual({ redisUrl: undefined, redisCluster: false, redisKeyPrefix: 'presence-graph:', upstreamReplicas: 2 });
    expect(redisSettings({ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://10.0.0.1:7000, redis://10.0.0.2:7000' })).toMatchObject({ redisCluster: true });
    expect(() => redisSettings({ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://10.0.0.1:7000,10.0.0.2:7000' })).toThrow(/one or more, comma-separated/);
    expect(() => redisSettings({ REDIS_URL: 'redis//:pw@host' })).toThrow(/value given is not \(not shown/);
  });

  it('web: GraphiQL on while developing, off in production, no other origin, and the loopback names by default', () => {
    const developing = { nodeEnv: 'development', host: '127.0.0.1', port: 4000, anonymous: true };
    expect(webConfig({}, developing)).toEqual({ corsOrigins: [], graphiqlEnabled: true, allowedHosts: ['localhost', '127.0.0.1', '[::1]'], ops: undefined });
    expect(webConfig({}, { ...developing, nodeEnv: 'production', host: '0.0.0.0', anonymous: false })).toMatchObject({ graphiqlEnabled: false, allowedHosts: undefined });
  });
});
