import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCheckingOpenApi, type CheckingOpenApi } from '../../support/checking-openapi';
import { postGraphQL } from '../../support/graphql-client';
import { readyUrl, startMain, type MainProcess } from '../../support/main-process';
import { StsAuthority } from '../../support/sts-authority';
import { makeTestCa, startStsStandIn, type StsStandIn } from '../../support/sts-stand-in';
import { waitFor } from '../../support/wait-for';

const ROLE_ARN = 'acs:ram::1234567890123456:role/presence-graph';
const PROVIDER_ARN = 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c0ffee';

/**
 * RRSA as ACK sets it up: a projected OIDC token file exchanged with STS by AssumeRoleWithOIDC, over
 * HTTPS with a test CA the process trusts only through NODE_EXTRA_CA_CERTS (read at process start,
 * hence `npm start`'s entry in a process of its own), the STS endpoint from ALIBABA_CLOUD_STS_ENDPOINT.
 */
describe('credentials from RRSA (OIDC) through an HTTPS STS', () => {
  const ca = makeTestCa();
  const dir = mkdtempSync(join(tmpdir(), 'presence-rrsa-'));
  const tokenFile = join(dir, 'token');
  let authority: StsAuthority;
  let sts: StsStandIn;
  let upstream: CheckingOpenApi;
  let main: MainProcess;
  let url: string;

  beforeAll(async () => {
    writeFileSync(tokenFile, 'oidc-token-one');
    authority = new StsAuthority({ rotateEveryMs: 1_000, lifeMs: 4_000 });
    sts = await startStsStandIn(authority, ca, { roleArn: ROLE_ARN, oidcProviderArn: PROVIDER_ARN, tokenFile });
    upstream = await startCheckingOpenApi(authority);
    main = startMain({
      PRESENCE_SOURCE: 'alibaba',
      ALLOW_ANONYMOUS: 'true',
      STATUS_NOTICES: 'off',
      ONSMQTT_ENDPOINT: upstream.endpoint,
      MQTT_INSTANCE_ID: 'post-cn-rrsa01',
      PRESENCE_CACHE_TTL_MS: '0',
      ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'oidc',
      ALIBABA_CLOUD_ROLE_ARN: ROLE_ARN,
      ALIBABA_CLOUD_OIDC_PROVIDER_ARN: PROVIDER_ARN,
      ALIBABA_CLOUD_OIDC_TOKEN_FILE: tokenFile,
      ALIBABA_CLOUD_STS_ENDPOINT: sts.endpoint,
      NODE_EXTRA_CA_CERTS: ca.caFile,
    });
    url = await readyUrl(main);
  }, 40_000);
  afterAll(async () => {
    main?.child.kill('SIGTERM');
    await main?.exited;
    await upstream?.close();
    await sts?.close();
    ca.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const lookup = (clientId: string) => postGraphQL<{ device: { online: boolean } }>(url, `{ device(clientId: "${clientId}") { online } }`);

  it('assumes the role with the projected token, names the source in the start log, and signs lookups with the STS key', async () => {
    expect(main.output()).toContain(`"credentials":{"source":"oidc","from":"role ${ROLE_ARN} through STS ${sts.endpoint}"}`);
    expect(sts.assumed[0]).toEqual({ roleSessionName: 'presence-graph', oidcToken: 'oidc-token-one' });
    expect((await lookup('GID_rrsa@@@a')).data).toEqual({ device: { online: true } });
    expect(upstream.accepted.keys.size).toBe(1);
    expect(main.output()).not.toContain('oidc-token-one');
  });

  it('renews before expiry with the token file as it is then (the kubelet rotates it), with no lookup refused', async () => {
    writeFileSync(tokenFile, 'oidc-token-two');
    await waitFor('an AssumeRoleWithOIDC with the rotated token', () => sts.assumed.some((call) => call.oidcToken === 'oidc-token-two'), 10_000, 50);
    for (let i = 0; i < 20; i++) expect((await lookup(`GID_rrsa@@@b${i}`)).errors).toBeUndefined();
    await waitFor('a lookup signed with a key issued after the token rotated', async () => {
      await lookup(`GID_rrsa@@@c${Date.now()}`);
      return upstream.accepted.keys.size >= 3;
    }, 10_000, 100);
    expect([...upstream.refused]).toEqual([]);
    expect(sts.refused).toEqual([]);
  }, 30_000);
});
