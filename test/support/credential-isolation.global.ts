import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Jest's globalSetup: keeps every test off the credentials of this machine and off the network.
 *
 * - `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`: `@alicloud/credentials`' default chain asks the ECS
 *   metadata service (100.100.100.200) before a credentials URI (providers/default.js); nothing here
 *   may send it a packet. Only a test inside a network namespace of its own turns it back on.
 * - a private, empty `HOME`: the CLI profile and credentials-file providers read `os.homedir()`
 *   (providers/cli_profile.js, profile.js), which is the *process's* HOME: a test that sets
 *   `process.env.HOME` inside Jest's sandbox does not change it (checked), so it is set here, in the
 *   real environment, before any test file or worker starts. Child processes inherit both.
 */
export default function isolateCredentials(): void {
  process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';
  process.env.HOME = mkdtempSync(join(tmpdir(), 'presence-test-home-'));
  for (const name of Object.keys(process.env)) {
    if (/^ALIBABA_CLOUD_(ACCESS_KEY|SECURITY_TOKEN|CREDENTIALS_|ROLE_|OIDC_|PROFILE|ECS_METADATA$)/.test(name)) delete process.env[name];
  }
}
