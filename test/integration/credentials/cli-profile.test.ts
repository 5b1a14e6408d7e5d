import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCheckingOpenApi, type CheckingOpenApi } from '../../support/checking-openapi';
import { postGraphQL } from '../../support/graphql-client';
import { readyUrl, startMain, type MainProcess } from '../../support/main-process';
import { StsAuthority, type IssuedCredential } from '../../support/sts-authority';

const INSTANCE_ID = 'post-cn-profile01';
const CONFIG_JSON = '~/.aliyun/config.json or ~/.alibabacloud/credentials';

/**
 * ALIBABA_CLOUD_CREDENTIALS_SOURCE=profile end to end: the whole service (`npm start`'s entry) in a
 * process of its own whose HOME is a temp dir holding the CLI's `~/.aliyun/config.json` (the SDK reads
 * `os.homedir()`, i.e. that process's HOME), and the checking onsmqtt stand-in, which accepts only
 * keys its authority issued: the StsToken profile's key with its token, or the AK profile's key
 * with no token. Nothing else in the file (the `current` profile, another profile) would be accepted.
 */
describe('credentials from a CLI profile (~/.aliyun/config.json) in a private HOME', () => {
  let authority: StsAuthority;
  let upstream: CheckingOpenApi;
  let home: string;
  let sts: IssuedCredential;
  let ak: { AccessKeyId: string; AccessKeySecret: string };
  /** A profile the stand-in never issued: the config's `current`, so ALIBABA_CLOUD_PROFILE must win over it. */
  const stranger = { AccessKeyId: 'LTAIstranger0000', AccessKeySecret: 'stranger-TOPSECRET' };

  beforeAll(async () => {
    // One STS key, valid for an hour: a CLI StsToken profile is static, the SDK never renews it.
    authority = new StsAuthority({ rotateEveryMs: 3_600_000, lifeMs: 3_600_000 });
    sts = authority.current();
    ak = authority.accessKey();
    upstream = await startCheckingOpenApi(authority);
    home = mkdtempSync(join(tmpdir(), 'presence-profile-home-'));
    mkdirSync(join(home, '.aliyun'));
    writeFileSync(
      join(home, '.aliyun', 'config.json'),
      JSON.stringify({
        current: 'stranger',
        profiles: [
          { name: 'stranger', mode: 'AK', access_key_id: stranger.AccessKeyId, access_key_secret: stranger.AccessKeySecret, region_id: 'cn-hangzhou' },
          { name: 'sts-profile', mode: 'StsToken', access_key_id: sts.AccessKeyId, access_key_secret: sts.AccessKeySecret, sts_token: sts.SecurityToken, region_id: 'cn-hangzhou' },
          { name: 'ak-profile', mode: 'AK', access_key_id: ak.AccessKeyId, access_key_secret: ak.AccessKeySecret, region_id: 'cn-hangzhou' },
        ],
      }),
      { mode: 0o600 },
    );
  });
  afterAll(async () => {
    await upstream?.close();
    rmSync(home, { recursive: true, force: true });
  });

  /** The service as a process of its own, HOME pointing at the temp dir, ALIBABA_CLOUD_PROFILE naming `profile`. */
  const startWithProfile = (profile: string, env: Record<string, string> = {}) =>
    startMain({
      HOME: home,
      PRESENCE_SOURCE: 'alibaba',
      ALLOW_ANONYMOUS: 'true',
      STATUS_NOTICES: 'off',
      ONSMQTT_ENDPOINT: upstream.endpoint,
      MQTT_INSTANCE_ID: INSTANCE_ID,
      ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'profile',
      ALIBABA_CLOUD_PROFILE: profile,
      ...env,
    });

  async function withService(profile: string, use: (url: string, main: MainProcess) => Promise<void>): Promise<void> {
    const main = startWithProfile(profile, { PRESENCE_CACHE_TTL_MS: '0', UPSTREAM_RETRY_MAX_ATTEMPTS: '1' });
    try {
      await use(await readyUrl(main), main);
    } finally {
      main.child.kill('SIGTERM');
      await main.exited;
    }
  }

  const lookup = (url: string, ids: string[]) => postGraphQL<{ devices: Array<{ clientId: string; online: boolean | null }> }>(url, 'query($ids: [ID!]!) { devices(clientIds: $ids) { clientId online } }', { ids });
  const readyz = async (url: string) => {
    const response = await fetch(url.replace('/graphql', '/readyz'));
    return { status: response.status, body: (await response.json()) as { status: string; failures: Record<string, string>; ready?: Record<string, string> } };
  };
  const readyLine = (output: string) =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; credentials?: unknown })
      .find((line) => line.msg.startsWith('Presence Graph ready'));

  it.each([
    ['sts-profile', 'StsToken', () => sts.AccessKeyId, () => [sts.AccessKeySecret, sts.SecurityToken]],
    ['ak-profile', 'AK', () => ak.AccessKeyId, () => [ak.AccessKeySecret]],
  ])('profile %s (mode %s): lookups signed with its key answer; the start log and /readyz name the profile source, never the secret', async (profile, _mode, keyId, secrets) => {
    const acceptedBefore = upstream.accepted.count;
    await withService(profile, async (url, main) => {
      const answer = await lookup(url, ['GID_prof@@@dev-1', 'GID_prof@@@dev-2', 'GID_prof@@@dev-3']);
      expect(answer.errors).toBeUndefined();
      expect(answer.data?.devices).toEqual([
        { clientId: 'GID_prof@@@dev-1', online: true },
        { clientId: 'GID_prof@@@dev-2', online: true },
        { clientId: 'GID_prof@@@dev-3', online: true },
      ]);
      expect(upstream.accepted.count).toBeGreaterThan(acceptedBefore);
      expect([...upstream.accepted.keys]).toContain(keyId());
      expect([...upstream.accepted.keys]).not.toContain(stranger.AccessKeyId);
      expect([...upstream.refused]).toEqual([]);

      const from = `profile ${profile} of ${CONFIG_JSON}`;
      expect(readyLine(main.output())?.credentials).toEqual({ source: 'profile', from });
      expect(await readyz(url)).toEqual({ status: 200, body: { status: 'ready', failures: {}, ready: { credentials: `profile: ${from}` } } });
      for (const secret of [...secrets(), stranger.AccessKeySecret]) expect(main.output()).not.toContain(secret);
    });
  }, 40_000);

  it('a profile the file does not hold stops the start, naming the profile source, never a secret', async () => {
    const main = startWithProfile('nobody');
    const code = await main.exited;
    expect(code).not.toBe(0);
    // No ~/.alibabacloud/credentials either: the last of the two inner providers says ENOENT.
    expect(main.output()).toContain(`failed to start: No valid Alibaba Cloud credentials from source profile (profile nobody of ${CONFIG_JSON})`);
    for (const secret of [sts.AccessKeySecret, sts.SecurityToken, ak.AccessKeySecret, stranger.AccessKeySecret]) expect(main.output()).not.toContain(secret);
  }, 40_000);
});
