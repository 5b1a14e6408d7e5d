import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLocalInstanceConfig } from '../../src/config';
import { startLocalInstance, type LocalInstance } from '../../src/local/local-instance';

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

/** A local instance standing for one catalogue instance: its ID, its account's AccessKey, no demo devices, `env` on top. */
export function startTestInstance(instance: TestAccountKey & { instanceId: string }, env: Record<string, string> = {}): Promise<LocalInstance> {
  return startLocalInstance(
    loadLocalInstanceConfig({
      LOCAL_INSTANCE_ID: instance.instanceId,
      LOCAL_ACCESS_KEY_ID: instance.accessKeyId,
      LOCAL_ACCESS_KEY_SECRET: instance.secret,
      LOCAL_MQTT_PORT: '0',
      LOCAL_DEMO_DEVICES: '0',
      LOCAL_BATCH_LAG_MS: '0',
      ...env,
    }),
  );
}
