import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/config';
import { UpstreamAuthFailedError } from '../../../src/presence/errors';
import { assertCredentialsAvailable, createAlibabaSessionApi } from '../../../src/upstream/alibaba-session-api';
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
    expect(createAlibabaSessionApi({ regionId: 'cn-beijing', ...timeouts }).endpoint).toBe('https://onsmqtt.cn-beijing.aliyuncs.com');
  });
});

describe('assertCredentialsAvailable', () => {
  const saved = { ...process.env };
  let home: string;

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'presence-credentials-'));
    for (const name of Object.keys(process.env)) if (name.startsWith('ALIBABA_CLOUD_')) delete process.env[name];
    // Keep the default chain off the network and out of the developer's own profiles.
    process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';
    process.env.ALIBABA_CLOUD_CREDENTIALS_FILE = join(home, 'no-such-credentials');
    process.env.HOME = home;
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(home, { recursive: true, force: true });
  });

  it('accepts an explicit AccessKey', async () => {
    await expect(assertCredentialsAvailable({ accessKeyId: 'LTAIexample', accessKeySecret: 'example-secret' })).resolves.toBeUndefined();
  });

  it('accepts the default chain when the environment holds an AccessKey', async () => {
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = 'LTAIfromenv';
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'secret-from-env';

    await expect(assertCredentialsAvailable()).resolves.toBeUndefined();
  });

  it('refuses an explicit AccessKey with an empty secret instead of falling back to the environment', async () => {
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = 'LTAIfromenv';
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'secret-from-env';

    await expect(assertCredentialsAvailable({ accessKeyId: 'LTAIexample', accessKeySecret: '' })).rejects.toThrow(UpstreamAuthFailedError);
  });

  it('fails with the variables to set when the default chain finds nothing', async () => {
    const error = await assertCredentialsAvailable().catch((e: unknown) => e as UpstreamAuthFailedError);

    expect(error).toBeInstanceOf(UpstreamAuthFailedError);
    expect(error!.upstream).toEqual({ code: 'CredentialsUnavailable' });
    expect(error!.message).toMatch(/ALIBABA_CLOUD_ACCESS_KEY_ID.*ALIBABA_CLOUD_ACCESS_KEY_SECRET/);
  });

  it('never repeats what the chain read, even where the SDK quotes a broken CLI config with its secret', async () => {
    // @alicloud/credentials' CLI profile provider throws `parse aliyun cli config … failed: <file content>`.
    mkdirSync(join(home, '.aliyun'));
    writeFileSync(join(home, '.aliyun', 'config.json'), '{ "profiles": [ { "access_key_secret": "cli-TOPSECRET" } ');

    const error = await assertCredentialsAvailable().catch((e: unknown) => e as Error);

    expect(error).toBeInstanceOf(UpstreamAuthFailedError);
    expect(`${error!.message} ${JSON.stringify(error)}`).not.toContain('cli-TOPSECRET');
  });
});
