import {
  CLIProfileCredentialsProvider,
  ECSRAMRoleCredentialsProvider,
  OIDCRoleArnCredentialsProvider,
  ProfileCredentialsProvider,
  URICredentialsProvider,
} from '@alicloud/credentials';
import type { AccessKeyCredential, CredentialSourceConfig } from '../../config/upstream';

/** One answer of a source: the key, and when it stops working (absent for a long-lived AccessKey). */
export interface FetchedCredential extends AccessKeyCredential {
  expiresAtMs?: number;
}

/**
 * One source of credentials, fetched afresh on every call: caching and renewal are
 * renewing-credentials.ts's. `source` and `describe` go to logs, /readyz and errors: never a secret.
 */
export interface CredentialFetcher {
  readonly source: CredentialSourceConfig['source'];
  /** Where it asks, e.g. `role acs:ram::1:role/x through STS sts.aliyuncs.com`; no secret, no token, no URL query. */
  readonly describe: string;
  fetch(): Promise<FetchedCredential>;
}

export interface FetcherTimeouts {
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

/** The session an SDK provider's `refresher` answers (providers/session.d.ts: Session). */
interface SdkSession {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  expiration: string;
}

/**
 * Builds the fetcher of one source from `@alicloud/credentials`' own providers, so the wire format of
 * each (the credentials URI's JSON, STS AssumeRoleWithOIDC, the ECS metadata's IMDSv2 token and role
 * lookup, the CLI config and credentials file) is the SDK's. Only the SDK's *refresh policy* is set
 * aside: for URI, OIDC and ECS we call the provider's public `refresher` (providers/session.js) and
 * keep the session ourselves, because its SessionCredentialProvider, once a refresh fails after the
 * 15-minute stale point, hands back the old session even past its Expiration, and waits up to
 * 2^(failures−1) seconds before asking again (`maxStaleFailureJitter`): lookups would be signed with an
 * expired token and recovery would slow down the longer the source was away.
 */
export function credentialFetcher(config: CredentialSourceConfig, timeouts: FetcherTimeouts): CredentialFetcher {
  switch (config.source) {
    case 'env': {
      const key: AccessKeyCredential = { accessKeyId: config.accessKeyId, accessKeySecret: config.accessKeySecret, ...(config.securityToken && { securityToken: config.securityToken }) };
      return { source: 'env', describe: config.securityToken ? 'STS token in ALIBABA_CLOUD_SECURITY_TOKEN' : 'AccessKey in ALIBABA_CLOUD_ACCESS_KEY_ID', fetch: async () => key };
    }
    case 'uri': {
      const provider = URICredentialsProvider.builder()
        .withCredentialsURI(config.uri)
        .withConnectTimeout(timeouts.connectTimeoutMs)
        .withReadTimeout(timeouts.readTimeoutMs)
        .build();
      return { source: 'uri', describe: `credentials URI ${originOf(config.uri)}`, fetch: () => fromSession(provider.refresher()) };
    }
    case 'oidc': {
      // The token file is read again on every refresh (oidc_role_arn.js): the kubelet rotates it.
      const provider = OIDCRoleArnCredentialsProvider.builder()
        .withRoleArn(config.roleArn)
        .withOIDCProviderArn(config.oidcProviderArn)
        .withOIDCTokenFilePath(config.oidcTokenFile)
        .withRoleSessionName(config.roleSessionName)
        .withStsEndpoint(config.stsEndpoint)
        .withConnectTimeout(timeouts.connectTimeoutMs)
        .withReadTimeout(timeouts.readTimeoutMs)
        .build();
      return { source: 'oidc', describe: `role ${config.roleArn} through STS ${config.stsEndpoint}`, fetch: () => fromSession(provider.refresher()) };
    }
    case 'ecs-ram-role': {
      // The SDK's fixed address 100.100.100.200, IMDSv2 token first, v1 unless disabled (ecs_ram_role.js).
      const provider = ECSRAMRoleCredentialsProvider.builder().withRoleName(config.roleName ?? '').withDisableIMDSv1(config.imdsV1Disabled).build();
      return { source: 'ecs-ram-role', describe: `ECS RAM role ${config.roleName ?? '(named by the metadata service)'}`, fetch: () => fromSession(provider.refresher()) };
    }
    case 'profile':
      return profileFetcher(config);
    default:
      return assertNever(config);
  }
}

/**
 * The CLI profile (~/.aliyun/config.json, ALIBABA_CLOUD_PROFILE or its `current`), then the
 * credentials file (~/.alibabacloud/credentials or ALIBABA_CLOUD_CREDENTIALS_FILE), in the default
 * chain's order; whichever answers first is kept. Their inner providers renew by the SDK's own policy
 * (a profile in AK or StsToken mode never expires), so no expiry is known here: asked on every use.
 */
function profileFetcher(config: Extract<CredentialSourceConfig, { source: 'profile' }>): CredentialFetcher {
  const providers: Array<{ getCredentials(): Promise<{ accessKeyId: string; accessKeySecret: string; securityToken?: string }> }> = [];
  if (!config.cliProfileDisabled) providers.push(CLIProfileCredentialsProvider.builder().withProfileName(config.profileName ?? '').build());
  providers.push(ProfileCredentialsProvider.builder().withProfileName(config.profileName ?? '').build());
  let pinned: (typeof providers)[number] | undefined;
  const file = config.credentialsFile ? 'ALIBABA_CLOUD_CREDENTIALS_FILE' : '~/.alibabacloud/credentials';
  return {
    source: 'profile',
    describe: `profile ${config.profileName ?? '(current)'} of ${config.cliProfileDisabled ? '' : '~/.aliyun/config.json or '}${file}`,
    async fetch() {
      let failure: unknown = new Error('no profile source');
      for (const provider of pinned ? [pinned] : providers) {
        try {
          const credentials = await provider.getCredentials();
          pinned = provider;
          return withToken(credentials.accessKeyId, credentials.accessKeySecret, credentials.securityToken);
        } catch (error) {
          failure = error;
        }
      }
      throw failure;
    },
  };
}

async function fromSession(pending: Promise<SdkSession>): Promise<FetchedCredential> {
  const session = await pending;
  // The SDK accepts only `…Z` times with or without milliseconds (providers/time.js, parseUTC).
  const expiresAtMs = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/.test(session.expiration ?? '') ? Date.parse(session.expiration) : Number.NaN;
  if (Number.isNaN(expiresAtMs)) throw new Error('the answer has no valid Expiration');
  return { ...withToken(session.accessKeyId, session.accessKeySecret, session.securityToken), expiresAtMs };
}

function withToken(accessKeyId: string, accessKeySecret: string, securityToken: string | undefined): AccessKeyCredential {
  if (!accessKeyId || !accessKeySecret) throw new Error('the answer has no AccessKeyId or AccessKeySecret');
  return securityToken ? { accessKeyId, accessKeySecret, securityToken } : { accessKeyId, accessKeySecret };
}

/** Scheme, host and port only: a credentials URI's path or query may carry a token of its own. */
function originOf(uri: string): string {
  return new URL(uri).origin;
}

function assertNever(value: never): never {
  throw new Error(`unhandled credential source ${JSON.stringify(value)}`);
}
