/**
 * INSTANCES_FILE: the catalogue of the Alibaba Cloud accounts and ApsaraMQ for MQTT instances one
 * deployment answers for (docs/instances.md). Each account has its own credentials and its own call
 * budget (upstream-api.md: 100 batch and 500 exact calls per second, per account); each instance is
 * reached at its own endpoint, signed with its account's credentials. Secrets are never written in
 * the file: an account names the environment variables holding its AccessKey, or uses the process's
 * credentials chain, or a credentials profile. Every message names the file, the entry and the field.
 */
import { ConfigError, amqpUrl, flag, jsonValue, parsedUrl, readText, text, type Env } from './env';
import type { AccessKeyCredential, CredentialsConfig } from './upstream';

export interface AccountConfig {
  /** The key of the entry in `accounts`: in logs, /readyz and the account's Redis budget keys. */
  name: string;
  /** Which identity signs this account's calls (never a secret in the file: read from the variables it names). */
  credentials: CredentialsConfig;
  /** Where the credentials come from, for logs: `env ALIBABA_PROD_AK_ID`, `chain`, `profile staging`. */
  credentialsFrom: string;
  /** The account's budgets, calls per rolling second (upstream-api.md: 100 and 500), @default UPSTREAM_BATCH_QPS / UPSTREAM_EXACT_QPS. */
  batchQps: number;
  exactQps: number;
  /**
   * Counts this account's calls under the budget keys of a deployment without INSTANCES_FILE, so that
   * during a rolling upgrade old and new replicas of the same account share one budget. At most one account.
   */
  legacyBudgetKey: boolean;
}

export interface InstanceStatusNotices {
  /** The instance's AMQP endpoint (`amqps://host:port`), never with userinfo. */
  url: string;
  groups: readonly string[];
  /** The queue consumed, @default 'STATUS' (the cloud's); a stand-in broker serving several instances gives each its own. */
  queue?: string;
}

export interface InstanceConfig {
  instanceId: string;
  /** A name in `accounts`. */
  account: string;
  regionId?: string;
  /** Full endpoint URL; otherwise `https://onsmqtt.<regionId>.aliyuncs.com`. */
  endpoint?: string;
  /** Its client status notices, consumed signed with its account's credentials (presence-instance-notices.ts). */
  statusNotices?: InstanceStatusNotices;
}

export interface InstanceCatalogue {
  /** The path given in INSTANCES_FILE, for messages. */
  file: string;
  accounts: Readonly<Record<string, AccountConfig>>;
  instances: Readonly<Record<string, InstanceConfig>>;
}

export interface CatalogueDefaults {
  batchQps: number;
  exactQps: number;
  /** The process's own credentials chain (ALIBABA_CLOUD_CREDENTIALS_SOURCE), for accounts with `"credentials": "chain"`. */
  chain: CredentialsConfig;
}

// Names go into Redis keys, log lines and /readyz: no spaces, colons or newlines.
const ACCOUNT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
// ApsaraMQ for MQTT instance IDs (post-cn-…, mqtt-cn-…): the same characters as a scope pattern names.
const INSTANCE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REGION_ID = /^[a-z0-9-]{2,40}$/;
const ACCOUNT_FIELDS = ['accessKeyIdEnv', 'accessKeySecretEnv', 'securityTokenEnv', 'credentials', 'profile', 'batchQps', 'exactQps', 'legacyBudgetKey'];
const INSTANCE_FIELDS = ['account', 'regionId', 'endpoint', 'statusNotices'];

/** The catalogue of INSTANCES_FILE, or undefined when it is not set (the single-instance variables then apply). */
export function instanceCatalogue(env: Env, defaults: CatalogueDefaults): InstanceCatalogue | undefined {
  const file = text(env, 'INSTANCES_FILE');
  if (file === undefined) return undefined;
  const where = `INSTANCES_FILE ${file}`;
  const parsed = jsonValue(where, readText('INSTANCES_FILE', file));
  const root = record(parsed, where, '{ "accounts": { … }, "instances": { … } }');
  unknownFields(root, ['accounts', 'instances'], where);
  const accountEntries = Object.entries(record(root.accounts, `${where}: accounts`, 'an object of accounts by name'));
  const instanceEntries = Object.entries(record(root.instances, `${where}: instances`, 'an object of instances by instance ID'));
  if (accountEntries.length === 0) throw new ConfigError(`${where}: accounts must name at least one account`);
  if (instanceEntries.length === 0) throw new ConfigError(`${where}: instances must name at least one instance`);

  const accounts: Record<string, AccountConfig> = {};
  for (const [name, value] of accountEntries) accounts[name] = account(env, `${where}: accounts.${name}`, name, value, defaults);
  const chained = Object.values(accounts).filter((entry) => entry.credentialsFrom === 'chain');
  if (chained.length > 1) {
    throw new ConfigError(`${where}: accounts ${chained.map((entry) => entry.name).join(' and ')} both use "credentials": "chain": one identity cannot sign for two accounts; give each its own AccessKey variables or profile`);
  }
  const legacy = Object.values(accounts).filter((entry) => entry.legacyBudgetKey);
  if (legacy.length > 1) {
    throw new ConfigError(`${where}: accounts ${legacy.map((entry) => entry.name).join(' and ')} both set legacyBudgetKey: only one account can own the budget of the deployment without INSTANCES_FILE`);
  }

  const instances: Record<string, InstanceConfig> = {};
  for (const [instanceId, value] of instanceEntries) {
    instances[instanceId] = instance(`${where}: instances.${instanceId}`, instanceId, value, accounts);
  }
  const unused = Object.keys(accounts).filter((name) => !Object.values(instances).some((entry) => entry.account === name));
  if (unused.length > 0) throw new ConfigError(`${where}: accounts.${unused[0]} has no instance: remove it, or name it in an instance's account field`);
  return { file, accounts, instances };
}

function account(env: Env, where: string, name: string, value: unknown, defaults: CatalogueDefaults): AccountConfig {
  if (!ACCOUNT_NAME.test(name)) throw new ConfigError(`${where}: the account name must be 1 to 64 letters, digits, - or _`);
  const entry = record(value, where, '{ "accessKeyIdEnv", "accessKeySecretEnv" } or { "credentials": "chain" } or { "profile": "<name>" }');
  unknownFields(entry, ACCOUNT_FIELDS, where);
  const ways = [entry.accessKeyIdEnv !== undefined || entry.accessKeySecretEnv !== undefined, entry.credentials !== undefined, entry.profile !== undefined];
  if (ways.filter(Boolean).length !== 1) {
    throw new ConfigError(`${where}: give exactly one of accessKeyIdEnv with accessKeySecretEnv (the variables holding the AccessKey), "credentials": "chain", or "profile": "<name>"`);
  }
  let credentials: CredentialsConfig;
  let credentialsFrom: string;
  if (ways[0]) {
    const key = accessKeyFromEnv(env, where, entry);
    credentials = { requested: 'env', candidates: [{ source: 'env', ...key }] };
    credentialsFrom = `env ${String(entry.accessKeyIdEnv)}`;
  } else if (ways[1]) {
    if (entry.credentials !== 'chain') throw new ConfigError(`${where}.credentials must be "chain" (the process's ALIBABA_CLOUD_CREDENTIALS_SOURCE); got ${JSON.stringify(entry.credentials)}`);
    if (defaults.chain.candidates.length === 0) throw new ConfigError(`${where}.credentials is "chain" but no credentials source is configured (docs/credentials.md)`);
    credentials = defaults.chain;
    credentialsFrom = 'chain';
  } else {
    if (typeof entry.profile !== 'string' || !ACCOUNT_NAME.test(entry.profile)) throw new ConfigError(`${where}.profile must name a credentials profile (letters, digits, - or _); got ${JSON.stringify(entry.profile)}`);
    const cliProfileDisabled = flag(env, 'ALIBABA_CLOUD_CLI_PROFILE_DISABLED', false);
    credentials = { requested: 'profile', candidates: [{ source: 'profile', profileName: entry.profile, cliProfileDisabled, credentialsFile: text(env, 'ALIBABA_CLOUD_CREDENTIALS_FILE') }] };
    credentialsFrom = `profile ${entry.profile}`;
  }
  if (entry.legacyBudgetKey !== undefined && typeof entry.legacyBudgetKey !== 'boolean') throw new ConfigError(`${where}.legacyBudgetKey must be true or false; got ${JSON.stringify(entry.legacyBudgetKey)}`);
  return {
    name,
    credentials,
    credentialsFrom,
    batchQps: qps(where, 'batchQps', entry.batchQps, defaults.batchQps),
    exactQps: qps(where, 'exactQps', entry.exactQps, defaults.exactQps),
    legacyBudgetKey: entry.legacyBudgetKey === true,
  };
}

/** The AccessKey from the variables the entry names; never quoted back, only the variables' names. */
function accessKeyFromEnv(env: Env, where: string, entry: Record<string, unknown>): AccessKeyCredential {
  const read = (field: 'accessKeyIdEnv' | 'accessKeySecretEnv' | 'securityTokenEnv', required: boolean): string | undefined => {
    const variable = entry[field];
    if (variable === undefined && !required) return undefined;
    if (typeof variable !== 'string' || !ENV_NAME.test(variable)) {
      throw new ConfigError(`${where}.${field} must name an environment variable (the secret itself never goes in the file); got ${variable === undefined ? 'nothing' : 'something else (not shown)'}`);
    }
    const value = text(env, variable);
    if (value === undefined) throw new ConfigError(`${where}.${field}: the environment variable ${variable} is not set`);
    return value;
  };
  const accessKeyId = read('accessKeyIdEnv', true)!;
  const accessKeySecret = read('accessKeySecretEnv', true)!;
  const securityToken = read('securityTokenEnv', false);
  return securityToken ? { accessKeyId, accessKeySecret, securityToken } : { accessKeyId, accessKeySecret };
}

function instance(where: string, instanceId: string, value: unknown, accounts: Record<string, AccountConfig>): InstanceConfig {
  if (!INSTANCE_ID.test(instanceId)) throw new ConfigError(`${where}: the instance ID must be 1 to 64 letters, digits, - or _ (post-cn-xxxxxxxx)`);
  const entry = record(value, where, '{ "account", "regionId" and/or "endpoint" }');
  unknownFields(entry, INSTANCE_FIELDS, where);
  if (typeof entry.account !== 'string' || !(entry.account in accounts)) {
    throw new ConfigError(`${where}.account must name one of the accounts (${Object.keys(accounts).join(', ')}); got ${JSON.stringify(entry.account)}`);
  }
  const result: InstanceConfig = { instanceId, account: entry.account };
  if (entry.regionId !== undefined) {
    if (typeof entry.regionId !== 'string' || !REGION_ID.test(entry.regionId)) throw new ConfigError(`${where}.regionId must look like cn-hangzhou; got ${JSON.stringify(entry.regionId)}`);
    result.regionId = entry.regionId;
  }
  if (entry.endpoint !== undefined) result.endpoint = endpoint(`${where}.endpoint`, entry.endpoint);
  if (!result.regionId && !result.endpoint) throw new ConfigError(`${where}: give regionId (e.g. cn-hangzhou) or endpoint (e.g. https://onsmqtt.cn-hangzhou.aliyuncs.com)`);
  if (entry.statusNotices !== undefined) result.statusNotices = statusNotices(`${where}.statusNotices`, entry.statusNotices);
  return result;
}

/** Scheme, host and port only, as the onsmqtt client takes it (RPC calls always go to `/`). */
function endpoint(where: string, value: unknown): string {
  const parsed = typeof value === 'string' ? parsedUrl(value) : undefined;
  const bare = parsed && (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.pathname === '/' && !parsed.search && !parsed.hash && !parsed.username && !parsed.password;
  if (!bare) throw new ConfigError(`${where} must be scheme, host and port only, such as https://onsmqtt.cn-hangzhou.aliyuncs.com; got ${JSON.stringify(value)}`);
  return value as string;
}

function statusNotices(where: string, value: unknown): InstanceStatusNotices {
  const entry = record(value, where, '{ "url": "amqps://host:port", "groups": ["GID_…"] }');
  unknownFields(entry, ['url', 'groups', 'queue'], where);
  const url = typeof entry.url === 'string' ? amqpUrl({ [`${where}.url`]: entry.url }, `${where}.url`, { userinfo: false }) : undefined;
  if (!url) throw new ConfigError(`${where}.url must be the instance's AMQP endpoint, such as amqps://mqtt-cn-xxx.mqtt.aliyuncs.com:5671`);
  const groups = entry.groups;
  if (!Array.isArray(groups) || groups.length === 0 || !groups.every((group) => typeof group === 'string' && /^GID[_-][A-Za-z0-9_-]{3,60}$/.test(group))) {
    throw new ConfigError(`${where}.groups must be a non-empty array of Group IDs (GID_…); got ${JSON.stringify(groups)}`);
  }
  if (entry.queue === undefined) return { url, groups };
  if (typeof entry.queue !== 'string' || !/^[A-Za-z0-9_.-]{1,255}$/.test(entry.queue)) throw new ConfigError(`${where}.queue must be a queue name (letters, digits, ., - or _); got ${JSON.stringify(entry.queue)}`);
  return { url, groups, queue: entry.queue };
}

function qps(where: string, field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100000) {
    throw new ConfigError(`${where}.${field} must be a whole number from 1 to 100000 (calls per second); got ${JSON.stringify(value)}`);
  }
  return value;
}

function record(value: unknown, where: string, shape: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${where} must be ${shape}`);
  return value as Record<string, unknown>;
}

/** A misspelt field (`acessKeyIdEnv`) would otherwise be ignored and its default used silently. */
function unknownFields(entry: Record<string, unknown>, known: readonly string[], where: string): void {
  const unknown = Object.keys(entry).find((field) => !known.includes(field));
  if (unknown !== undefined) throw new ConfigError(`${where}: unknown field ${JSON.stringify(unknown)} (known: ${known.join(', ')})`);
}
