import { ConfigError } from '../../../src/config';
import { credentialsConfig } from '../../../src/config/upstream';

const rrsa = {
  ALIBABA_CLOUD_ROLE_ARN: 'acs:ram::1234567890:role/presence-graph',
  ALIBABA_CLOUD_OIDC_PROVIDER_ARN: 'acs:ram::1234567890:oidc-provider/ack-rrsa-c123',
  ALIBABA_CLOUD_OIDC_TOKEN_FILE: '/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token',
};
const offNetwork = { ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' };

describe('ALIBABA_CLOUD_CREDENTIALS_SOURCE', () => {
  it('defaults to the chain, in the order of the SDK\'s DefaultCredentialsProvider, with only the sources configured', () => {
    const config = credentialsConfig({ ...rrsa, ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's', ALIBABA_CLOUD_CREDENTIALS_URI: 'http://127.0.0.1:9/c' });
    expect(config.requested).toBe('chain');
    expect(config.candidates.map((candidate) => candidate.source)).toEqual(['env', 'oidc', 'profile', 'ecs-ram-role', 'uri']);
  });

  it('leaves the ECS metadata service out of the chain when ALIBABA_CLOUD_ECS_METADATA_DISABLED=true', () => {
    expect(credentialsConfig(offNetwork).candidates.map((candidate) => candidate.source)).toEqual(['profile']);
  });

  it('selects one source explicitly, and says what that source needs when it is not configured', () => {
    expect(credentialsConfig({ ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'uri', ALIBABA_CLOUD_CREDENTIALS_URI: 'http://127.0.0.1:8080/c?token=x' })).toEqual({
      requested: 'uri',
      candidates: [{ source: 'uri', uri: 'http://127.0.0.1:8080/c?token=x' }],
    });
    expect(() => credentialsConfig({ ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'uri' })).toThrow(/ALIBABA_CLOUD_CREDENTIALS_SOURCE=uri needs ALIBABA_CLOUD_CREDENTIALS_URI/);
    expect(() => credentialsConfig({ ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'env' })).toThrow(/needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET/);
    expect(() => credentialsConfig({ ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'oidc' })).toThrow(/needs ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE/);
  });

  it('refuses an unknown source, naming the choices', () => {
    expect(() => credentialsConfig({ ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'rrsa' })).toThrow(
      new ConfigError('ALIBABA_CLOUD_CREDENTIALS_SOURCE must be one of env, uri, oidc, ecs-ram-role, profile, chain; got "rrsa"'),
    );
  });

  it('refuses ecs-ram-role together with ALIBABA_CLOUD_ECS_METADATA_DISABLED=true', () => {
    expect(() => credentialsConfig({ ...offNetwork, ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'ecs-ram-role' })).toThrow(/contradicts ALIBABA_CLOUD_ECS_METADATA_DISABLED=true/);
    expect(credentialsConfig({ ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'ecs-ram-role', ALIBABA_CLOUD_ECS_METADATA: 'presence-role' }).candidates).toEqual([
      { source: 'ecs-ram-role', roleName: 'presence-role', imdsV1Disabled: false },
    ]);
  });

  it('takes the STS endpoint for OIDC from ALIBABA_CLOUD_STS_ENDPOINT, else from the region as the SDK would', () => {
    const oidc = (env: Record<string, string>) => credentialsConfig({ ...rrsa, ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'oidc', ...env }).candidates[0];
    expect(oidc({})).toMatchObject({ source: 'oidc', stsEndpoint: 'sts.aliyuncs.com', roleSessionName: 'presence-graph', ...{ roleArn: rrsa.ALIBABA_CLOUD_ROLE_ARN } });
    expect(oidc({ ALIBABA_CLOUD_STS_REGION: 'cn-shanghai', ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED: 'true' })).toMatchObject({ stsEndpoint: 'sts-vpc.cn-shanghai.aliyuncs.com' });
    expect(oidc({ ALIBABA_CLOUD_STS_REGION: 'cn-shanghai', ALIBABA_CLOUD_STS_ENDPOINT: '127.0.0.1:8443' })).toMatchObject({ stsEndpoint: '127.0.0.1:8443' });
    expect(() => oidc({ ALIBABA_CLOUD_STS_ENDPOINT: 'https://sts.aliyuncs.com' })).toThrow(/ALIBABA_CLOUD_STS_ENDPOINT must be host\[:port\]/);
    expect(() => oidc({ ALIBABA_CLOUD_STS_ENDPOINT: 'sts.aliyuncs.com/x' })).toThrow(/ALIBABA_CLOUD_STS_ENDPOINT must be host\[:port\]/);
  });

  it('refuses a partial RRSA set, naming what is missing', () => {
    expect(() => credentialsConfig({ ALIBABA_CLOUD_ROLE_ARN: rrsa.ALIBABA_CLOUD_ROLE_ARN })).toThrow(/missing ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE/);
  });

  it('never quotes a malformed credentials URI back (it may carry a token)', () => {
    expect(() => credentialsConfig({ ALIBABA_CLOUD_CREDENTIALS_URI: 'ftp://host/?token=TOPSECRET' })).toThrow(/ALIBABA_CLOUD_CREDENTIALS_URI must be an http or https URL/);
    expect(() => credentialsConfig({ ALIBABA_CLOUD_CREDENTIALS_URI: 'ftp://host/?token=TOPSECRET' })).not.toThrow(/TOPSECRET/);
  });

  it('names the CLI profile when ALIBABA_CLOUD_PROFILE is set', () => {
    expect(credentialsConfig({ ...offNetwork, ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'profile', ALIBABA_CLOUD_PROFILE: 'ops' }).candidates).toEqual([
      { source: 'profile', profileName: 'ops', cliProfileDisabled: false },
    ]);
  });
});
