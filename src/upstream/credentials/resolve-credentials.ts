import type { CredentialsConfig } from '../../config/upstream';
import { PresenceError } from '../../presence/errors';
import { credentialsUnavailable } from '../upstream-errors';
import { credentialFetcher, type FetcherTimeouts } from './credential-sources';
import { RenewingCredentials, type RenewingCredentialsOptions } from './renewing-credentials';

/**
 * Picks the source at start and holds its credentials for the life of the process. With one source
 * (ALIBABA_CLOUD_CREDENTIALS_SOURCE set), that one must answer. With `chain`, the candidates are tried
 * in the order of `@alicloud/credentials`' DefaultCredentialsProvider (providers/default.js) and the
 * first that answers is kept, as the SDK keeps its `lastUsedProvider`; unlike the SDK, which after a
 * chain where every source failed sticks to the *last* one tried, a start where none answers stops
 * here with every source named, and the one in use is named in the start log and /readyz.
 */
export async function resolveCredentials(
  config: CredentialsConfig,
  timeouts: FetcherTimeouts,
  options: RenewingCredentialsOptions = {},
): Promise<RenewingCredentials> {
  const tried: string[] = [];
  for (const candidate of config.candidates) {
    const credentials = new RenewingCredentials(credentialFetcher(candidate, timeouts), options);
    try {
      await credentials.get();
      return credentials;
    } catch (error) {
      credentials.close();
      if (config.requested !== 'chain') throw error;
      tried.push(error instanceof PresenceError ? error.message.replace(/; lookups resume.*$/, '') : candidate.source);
    }
  }
  throw credentialsUnavailable(tried);
}
