/**
 * `npm run local-instance` with INSTANCES_FILE: the local instance emulates every instance of the
 * catalogue the service reads (docs/instances.md), so one file serves both. Each instance gets its own
 * broker (its own sessions) and its own emulator at the port its `endpoint` names, signing with its
 * account's AccessKey (from the variables the file names); the instances of one account share that
 * account's emulator limits (`batchQps` / `exactQps`, 100 / 500 by default), as the cloud counts them.
 */
import { ConfigError, parsedUrl, type Env } from './env';
import { instanceCatalogue } from './instances';
import type { LocalInstanceConfig } from './local';

export interface LocalAccountConfig {
  name: string;
  batchQps: number;
  exactQps: number;
  instances: LocalInstanceConfig[];
}

export interface LocalInstancesConfig {
  file: string;
  accounts: LocalAccountConfig[];
  /** LOCAL_AMQP_AUTH_PORT: where the router RabbitMQ asks listens (each instance's own check on a free port). */
  amqpAuthPort: number;
}

/** Undefined without INSTANCES_FILE: the one local instance of `base`. */
export function localInstancesConfig(env: Env, base: LocalInstanceConfig): LocalInstancesConfig | undefined {
  const catalogue = instanceCatalogue(env, { batchQps: 100, exactQps: 500, chain: { requested: 'chain', candidates: [] } });
  if (!catalogue) return undefined;
  const where = `INSTANCES_FILE ${catalogue.file}`;
  const accounts = new Map<string, LocalAccountConfig>();
  for (const instance of Object.values(catalogue.instances)) {
    const account = catalogue.accounts[instance.account];
    const key = account.credentials.candidates[0];
    if (account.credentials.requested !== 'env' || key?.source !== 'env' || key.securityToken !== undefined) {
      throw new ConfigError(`${where}: accounts.${account.name}: a local instance signs with a long-lived AccessKey: give accessKeyIdEnv and accessKeySecretEnv (no securityTokenEnv, chain or profile)`);
    }
    const endpoint = instance.endpoint ? parsedUrl(instance.endpoint) : undefined;
    if (!endpoint || endpoint.protocol !== 'http:' || !['127.0.0.1', 'localhost'].includes(endpoint.hostname) || endpoint.port === '') {
      throw new ConfigError(`${where}: instances.${instance.instanceId}.endpoint must be http://127.0.0.1:<port> for a local instance (its emulator listens there); got ${JSON.stringify(instance.endpoint)}`);
    }
    let entry = accounts.get(account.name);
    if (!entry) accounts.set(account.name, (entry = { name: account.name, batchQps: account.batchQps, exactQps: account.exactQps, instances: [] }));
    entry.instances.push({
      ...base,
      instanceId: instance.instanceId,
      accessKeyId: key.accessKeyId,
      accessKeySecret: key.accessKeySecret,
      // Every instance its own broker: a free port each (printed), and its emulator where `endpoint` says.
      mqttPort: 0,
      openApiPort: Number(endpoint.port),
      noticesQueue: instance.statusNotices?.queue,
      // RabbitMQ asks one URL (LOCAL_AMQP_AUTH_PORT): a router there asks each instance's own check.
      amqpAuthPort: 0,
    });
  }
  return { file: catalogue.file, accounts: [...accounts.values()], amqpAuthPort: base.amqpAuthPort ?? 0 };
}
