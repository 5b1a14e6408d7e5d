import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/config';
import { credentialsConfig } from '../../../src/config/upstream';
import { UpstreamAuthFailedError } from '../../../src/presence/errors';
import { createAlibabaSessionApi } from '../../../src/upstream/alibaba-session-api';
import { resolveCredentials } from '../../../src/upstream/credentials/resolve-credentials';
import { resolveEndpoint } from '../../../src/upstream/openapi-client';

const timeouts = { connectTimeoutMs: 1000, readTimeoutMs: 1000 };

describe('resolveEndpoint', () => {
  it('uses the public HTTPS endpoint of the region when no endpoint URL is given', () => {
    expect(resolveEndpoint({ regionId: 'cn-hangzhou' })).toEqual({ host: 'onsmqtt.cn-hangzhou.aliyuncs.com', protocol: 'https' });
  });

  it('takes host, port and protocol from ONSMQTT_ENDPOINT, which wins over the region', () => {
    expect(resolveEndpoint({ endpoint: 'http://127.0.0.1:9000', regionId: 'cn-hangzhou' })).toEqual({ host: '127.0.0.1:9000', protocol: 'http' });
    expect(resolveEndpoint({ endpoint: 'https://onsmqtt-vpc.cn-shanghai.aliyuncs.com/' })).toEqual({ host: 'onsmqtt-vpc.cn-shanghai.aliyuncs.com', protocol: 'https' });
  });

  it.each([
    ['a path', 'https://onsmqtt.cn-hangzhou.aliyuncs.com/api'],
    ['a query', 'https://onsmqtt.cn-hangzhou.aliyuncs.com/?a=b'],
    ['user info', 'https://user:pass@onsmqtt.cn-hangzhou.aliyuncs.com'],
    ['another scheme', 'ftp://onsmqtt.cn-hangzhou.aliyuncs.com'],
    ['no URL at all', 'onsmqtt.cn-hangzhou.aliyuncs.com'],
  ])('refuses an endpoint with %s, naming ONSMQTT_ENDPOINT', (_case, endpoint) => {
    expect(() => resolveEndpoint({ endpoint })).toThrow(ConfigError);
    expect(() => resolveEndpoint({ endpoint })).toThrow(/ONSMQTT_ENDPOINT/);
  });

  it('refuses a region that could not be a host label, and refuses neither being set', () => {
    expect(() => resolveEndpoint({ regionId: 'cn-hangzhou.evil.com/' })).toThrow(/ALIBABA_CLOUD_REGION_ID/);
    expect(() => resolveEndpoint({})).toThrow(/ALIBABA_CLOUD_REGION_ID.*ONSMQTT_ENDPOINT/);
  });

  it('gives the session API the endpoint it calls, for logs', () => {
    expect(createAlibabaSessionApi({ regionId: 'cn-beijing', ...timeouts, credential: { accessKeyId: 'LTAIexample', accessKeySecret: 's' } }).endpoint).toBe('https://onsmqtt.cn-beijing.aliyuncs.com');
  });
});

describe('resolveCredentials', () => {
  const timeouts = { connectTimeoutMs: 500, readTimeoutMs: 500 };
  // The private HOME of test/support/credential-isolation.global.ts: the SDK's profile providers read os.homedir().
  const cliConfig = join(homedir(), '.aliyun', 'config.json');
  afterEach(() => rmSync(join(homedir(), '.aliyun'), { recursive: true, force: true }));

  it('runs with a private HOME and the ECS metadata service off, so no test reads real profiles or asks 100.100.100.200', () => {
    expect(homedir()).toContain('presence-test-home-');
    expect(process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED).toBe('true');
  });

  it('takes the AccessKey in the environment first, as the SDK chain does, and names the source', async () => {
    const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIfromenv', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret-from-env', ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' };
    const credentials = await resolveCredentials(credentialsConfig(env), timeouts);
    expect(credentials.source).toBe('env');
    await expect(credentials.get()).resolves.toEqual({ accessKeyId: 'LTAIfromenv', accessKeySecret: 'secret-from-env' });
  });

  it('reads a CLI profile (~/.aliyun/config.json, ALIBABA_CLOUD_PROFILE) through the SDK', async () => {
    mkdirSync(join(homedir(), '.aliyun'));
    writeFileSync(cliConfig, JSON.stringify({ current: 'dev', profiles: [
      { name: 'dev', mode: 'AK', access_key_id: 'LTAIdev', access_key_secret: 'dev-secret' },
      { name: 'ops', mode: 'StsToken', access_key_id: 'STS.ops', access_key_secret: 'ops-secret', sts_token: 'ops-token' },
    ] }));
    const chosen = await resolveCredentials(credentialsConfig({ ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'profile', ALIBABA_CLOUD_PROFILE: 'ops' }), timeouts);
    expect(chosen.source).toBe('profile');
    await expect(chosen.get()).resolves.toEqual({ accessKeyId: 'STS.ops', accessKeySecret: 'ops-secret', securityToken: 'ops-token' });
    const current = await resolveCredentials(credentialsConfig({ ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' }), timeouts);
    await expect(current.get()).resolves.toEqual({ accessKeyId: 'LTAIdev', accessKeySecret: 'dev-secret' });
  });

  it('fails at start naming every source the chain tried when none answers', async () => {
    const error = (await resolveCredentials(credentialsConfig({ ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true', ALIBABA_CLOUD_CREDENTIALS_URI: 'http://127.0.0.1:9/creds' }), timeouts).then(() => undefined, (e: unknown) => e)) as UpstreamAuthFailedError;
    expect(error).toBeInstanceOf(UpstreamAuthFailedError);
    expect(error.upstream).toEqual({ code: 'CredentialsUnavailable' });
    expect(error.message).toMatch(/tried .*source profile .*; .*source uri \(credentials URI http:\/\/127\.0\.0\.1:9\): no answer \(ECONNREFUSED\)/);
  });

  it('never repeats what a source said, even where the SDK quotes a broken CLI config with its secret', async () => {
    // @alicloud/credentials' CLI profile provider throws `parse aliyun cli config … failed: <file content>`.
    mkdirSync(join(homedir(), '.aliyun'));
    writeFileSync(cliConfig, '{ "profiles": [ { "access_key_secret": "cli-TOPSECRET" } ');
    const error = (await resolveCredentials(credentialsConfig({ ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'profile' }), timeouts).then(() => undefined, (e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(UpstreamAuthFailedError);
    expect(error.message).toMatch(/source profile/);
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('cli-TOPSECRET');
  });

  it('refuses a fixed AccessKey with an empty secret instead of letting the SDK fall back to the environment', () => {
    expect(() => createAlibabaSessionApi({ regionId: 'cn-beijing', ...timeouts, credential: { accessKeyId: 'LTAIexample', accessKeySecret: '' } })).toThrow(UpstreamAuthFailedError);
  });
});
