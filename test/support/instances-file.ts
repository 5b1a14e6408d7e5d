import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** An account of an INSTANCES_FILE in the tests: its AccessKey in the variables <NAME>_AK_ID / <NAME>_AK_SECRET. */
export interface TestAccountKey {
  accessKeyId: string;
  secret: string;
}

/** The catalogue's `accounts` entries for these accounts, each naming its own variables (and any more fields). */
export function accountEntries(accounts: Record<string, TestAccountKey & { fields?: Record<string, unknown> }>): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(accounts).map(([name, account]) => [name, { accessKeyIdEnv: `${name.toUpperCase()}_AK_ID`, accessKeySecretEnv: `${name.toUpperCase()}_AK_SECRET`, ...account.fields }]),
  );
}

/** Writes the catalogue into `directory`; the environment a service needs to read it, keys included. */
export function instancesFileEnv(directory: string, catalogue: object, accounts: Record<string, TestAccountKey>): Record<string, string> {
  const file = join(directory, 'instances.json');
  writeFileSync(file, JSON.stringify(catalogue));
  const env: Record<string, string> = { PRESENCE_SOURCE: 'alibaba', ALLOW_ANONYMOUS: 'true', INSTANCES_FILE: file };
  for (const [name, account] of Object.entries(accounts)) {
    env[`${name.toUpperCase()}_AK_ID`] = account.accessKeyId;
    env[`${name.toUpperCase()}_AK_SECRET`] = account.secret;
  }
  return env;
}
