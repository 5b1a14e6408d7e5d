import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config';

/** INSTANCES_FILE as an operator writes it: every refusal names the file, the entry and the field. */
describe('INSTANCES_FILE', () => {
  let directory: string;
  let file: string;
  const keys = { PROD_AK_ID: 'LTAIprod', PROD_AK_SECRET: 'prod-secret-do-not-print', STG_AK_ID: 'LTAIstg', STG_AK_SECRET: 'stg-secret' };
  // One replica: the catalogue's status notices would otherwise need REDIS_URL (replicas share one table).
  const base = { PRESENCE_SOURCE: 'alibaba', ALLOW_ANONYMOUS: 'true', ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true', UPSTREAM_REPLICAS: '1', ...keys };
  const valid = () => ({
    accounts: {
      prod: { accessKeyIdEnv: 'PROD_AK_ID', accessKeySecretEnv: 'PROD_AK_SECRET', batchQps: 80, legacyBudgetKey: true },
      staging: { accessKeyIdEnv: 'STG_AK_ID', accessKeySecretEnv: 'STG_AK_SECRET' },
    },
    instances: {
      'post-cn-prod01': { account: 'prod', regionId: 'cn-hangzhou', statusNotices: { url: 'amqps://mqtt-cn-prod01.mqtt.aliyuncs.com:5671', groups: ['GID_fleet'] } },
      'post-cn-prod02': { account: 'prod', regionId: 'ap-southeast-1' },
      'post-cn-stg01': { account: 'staging', endpoint: 'http://127.0.0.1:9000' },
    },
  });
  const load = (catalogue: unknown, env: Record<string, string> = {}) => {
    writeFileSync(file, typeof catalogue === 'string' ? catalogue : JSON.stringify(catalogue));
    return loadConfig({ ...base, INSTANCES_FILE: file, ...env });
  };
  const refusal = (catalogue: unknown, env: Record<string, string> = {}): string => {
    try {
      load(catalogue, env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'instances-config-'));
    file = join(directory, 'instances.json');
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('changes nothing when unset: the single-instance variables work exactly as before', () => {
    const config = loadConfig({ ...base, ONSMQTT_ENDPOINT: 'http://127.0.0.1:9000' });
    expect(config.instances).toBeUndefined();
    expect(config.upstream.endpoint).toBe('http://127.0.0.1:9000');
    expect(() => loadConfig({ PRESENCE_SOURCE: 'alibaba', ALLOW_ANONYMOUS: 'true' })).toThrow(/needs ALIBABA_CLOUD_REGION_ID/);
  });

  it('reads accounts with their AccessKey from the variables named, budgets defaulting to UPSTREAM_BATCH_QPS / UPSTREAM_EXACT_QPS, and instances by ID', () => {
    const { instances } = load(valid(), { UPSTREAM_EXACT_QPS: '400' });
    expect(instances!.accounts.prod).toMatchObject({
      name: 'prod',
      batchQps: 80,
      exactQps: 400,
      legacyBudgetKey: true,
      credentials: { requested: 'env', candidates: [{ source: 'env', accessKeyId: 'LTAIprod', accessKeySecret: 'prod-secret-do-not-print' }] },
    });
    expect(instances!.accounts.staging).toMatchObject({ batchQps: 100, exactQps: 400, legacyBudgetKey: false });
    expect(instances!.instances['post-cn-stg01']).toEqual({ instanceId: 'post-cn-stg01', account: 'staging', endpoint: 'http://127.0.0.1:9000' });
    expect(instances!.instances['post-cn-prod01'].statusNotices).toEqual({ url: 'amqps://mqtt-cn-prod01.mqtt.aliyuncs.com:5671', groups: ['GID_fleet'] });
    expect(Object.isFrozen(instances!.accounts.prod)).toBe(true);
  });

  it('accepts an account on the process\'s credentials chain or on a profile, but only one account on the chain', () => {
    const catalogue = valid();
    (catalogue.accounts as Record<string, unknown>).prod = { credentials: 'chain' };
    (catalogue.accounts as Record<string, unknown>).staging = { profile: 'staging' };
    const { instances } = load(catalogue);
    expect(instances!.accounts.prod.credentials.requested).toBe('chain');
    expect(instances!.accounts.staging.credentials).toEqual({ requested: 'profile', candidates: [expect.objectContaining({ source: 'profile', profileName: 'staging' })] });
    (catalogue.accounts as Record<string, unknown>).staging = { credentials: 'chain' };
    expect(refusal(catalogue)).toMatch(/accounts prod and staging both use "credentials": "chain"/);
  });

  it.each([
    ['the file is not JSON', '{', /^INSTANCES_FILE .*instances\.json is not valid JSON$/],
    ['a variable is not set', { ...valid(), accounts: { ...valid().accounts, staging: { accessKeyIdEnv: 'STG_AK_ID', accessKeySecretEnv: 'MISSING_SECRET' } } }, /instances\.json: accounts\.staging\.accessKeySecretEnv: the environment variable MISSING_SECRET is not set$/],
    ['a secret is written in place of a variable name', { ...valid(), accounts: { ...valid().accounts, staging: { accessKeyIdEnv: 'STG_AK_ID', accessKeySecretEnv: 'abc/def+secret' } } }, /accounts\.staging\.accessKeySecretEnv must name an environment variable .*not shown/],
    ['an account has two kinds of credentials', { ...valid(), accounts: { ...valid().accounts, staging: { profile: 'x', credentials: 'chain' } } }, /accounts\.staging: give exactly one of/],
    ['a field is misspelt', { ...valid(), accounts: { ...valid().accounts, staging: { accessKeyIdEnv: 'STG_AK_ID', accessKeySecretEnv: 'STG_AK_SECRET', batchQPS: 5 } } }, /accounts\.staging: unknown field "batchQPS"/],
    ['a budget is not a whole number', { ...valid(), accounts: { ...valid().accounts, staging: { accessKeyIdEnv: 'STG_AK_ID', accessKeySecretEnv: 'STG_AK_SECRET', exactQps: 0.5 } } }, /accounts\.staging\.exactQps must be a whole number from 1 to 100000/],
    ['an instance names no known account', { ...valid(), instances: { ...valid().instances, 'post-cn-x': { account: 'dev', regionId: 'cn-hangzhou' } } }, /instances\.post-cn-x\.account must name one of the accounts \(prod, staging\); got "dev"/],
    ['an instance has neither region nor endpoint', { ...valid(), instances: { ...valid().instances, 'post-cn-x': { account: 'prod' } } }, /instances\.post-cn-x: give regionId .* or endpoint/],
    ['an endpoint has a path', { ...valid(), instances: { ...valid().instances, 'post-cn-x': { account: 'prod', endpoint: 'https://onsmqtt.cn-hangzhou.aliyuncs.com/api' } } }, /instances\.post-cn-x\.endpoint must be scheme, host and port only/],
    ['status notices carry a password', { ...valid(), instances: { 'post-cn-x': { account: 'prod', regionId: 'cn-hangzhou', statusNotices: { url: 'amqps://u:p@host:5671', groups: ['GID_a1'] } }, 'post-cn-y': { account: 'staging', regionId: 'cn-hangzhou' } } }, /instances\.post-cn-x\.statusNotices\.url must not carry a user or password/],
    ['status notices name no group', { ...valid(), instances: { ...valid().instances, 'post-cn-x': { account: 'prod', regionId: 'cn-hangzhou', statusNotices: { url: 'amqps://host:5671', groups: [] } } } }, /instances\.post-cn-x\.statusNotices\.groups must be a non-empty array of Group IDs/],
    ['an account serves no instance', { ...valid(), instances: { 'post-cn-prod01': { account: 'prod', regionId: 'cn-hangzhou' } } }, /accounts\.staging has no instance/],
    ['two accounts claim the legacy budget key', { ...valid(), accounts: { ...valid().accounts, staging: { profile: 'stg', legacyBudgetKey: true } } }, /accounts prod and staging both set legacyBudgetKey/],
  ])('refuses a catalogue where %s, naming the file, the entry and the field', (_, catalogue, message) => {
    const text = refusal(catalogue);
    expect(text).toMatch(message);
    expect(text).toContain(file);
    expect(text).not.toContain('prod-secret-do-not-print');
  });

  it('refuses what the catalogue settles instead: the local source, ONSMQTT_ENDPOINT, a default instance outside it, the single instance\'s status notices', () => {
    expect(refusal(valid(), { PRESENCE_SOURCE: 'local' })).toMatch(/INSTANCES_FILE needs PRESENCE_SOURCE=alibaba/);
    expect(refusal(valid(), { ONSMQTT_ENDPOINT: 'http://127.0.0.1:9000' })).toMatch(/ONSMQTT_ENDPOINT is set but INSTANCES_FILE names each instance's endpoint/);
    expect(refusal(valid(), { MQTT_INSTANCE_ID: 'post-cn-other' })).toMatch(/MQTT_INSTANCE_ID=post-cn-other is not in INSTANCES_FILE/);
    expect(load(valid(), { MQTT_INSTANCE_ID: 'post-cn-prod02' }).defaultInstanceId).toBe('post-cn-prod02');
    expect(refusal(valid(), { STATUS_NOTICES_URL: 'amqps://host:5671' })).toMatch(/STATUS_NOTICES_URL is set but INSTANCES_FILE gives each instance its own statusNotices/);
    expect(refusal(valid(), { STATUS_NOTICES_GROUPS: 'GID_a' })).toMatch(/STATUS_NOTICES_GROUPS is set but INSTANCES_FILE/);
    expect(() => loadConfig({ ...base, INSTANCES_FILE: join(directory, 'absent.json') })).toThrow(/INSTANCES_FILE: cannot read .*absent\.json: ENOENT/);
  });

  it('consumes the status notices of the instances carrying statusNotices, unless STATUS_NOTICES=off; several replicas need Redis', () => {
    expect(load(valid()).statusNotices.enabled).toBe(true);
    expect(load(valid(), { STATUS_NOTICES: 'off' }).statusNotices.enabled).toBe(false);
    const withQueue = valid();
    (withQueue.instances['post-cn-prod01'].statusNotices as Record<string, unknown>).queue = 'STATUS-prod01';
    expect(load(withQueue).instances!.instances['post-cn-prod01'].statusNotices).toMatchObject({ queue: 'STATUS-prod01' });

    const without = valid();
    delete (without.instances['post-cn-prod01'] as { statusNotices?: unknown }).statusNotices;
    expect(load(without).statusNotices.enabled).toBe(false);
    expect(refusal(without, { STATUS_NOTICES: 'on' })).toMatch(/STATUS_NOTICES=on but no instance of INSTANCES_FILE .* has statusNotices/);
    expect(refusal(valid(), { UPSTREAM_REPLICAS: '3' })).toMatch(/UPSTREAM_REPLICAS=3 need REDIS_URL/);
    (withQueue.instances['post-cn-prod01'].statusNotices as Record<string, unknown>).queue = 'a queue';
    expect(refusal(withQueue)).toMatch(/instances\.post-cn-prod01\.statusNotices\.queue must be a queue name/);
  });
});
