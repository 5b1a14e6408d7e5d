/**
 * Several local instances in several accounts, from the INSTANCES_FILE the service reads
 * (config/local-instances.ts): each instance its own broker, sessions and emulator; each account one
 * set of emulator limits shared by its instances, so a service over-spending one account is throttled
 * there and nowhere else. With LOCAL_STATUS_NOTICES_URL, each instance publishes to its own queue
 * (`statusNotices.queue`) and the broker's auth backend asks one router that passes each login to the
 * check of the instance it names.
 */
import type { LocalInstancesConfig } from '../config';
import { startAmqpAuthRouter } from './amqp-auth-router';
import { startLocalInstance, type LocalInstance } from './local-instance';
import { silentLogger, type LocalLogger } from './logger';
import { accountLimiters } from './openapi-emulator';

export interface LocalInstances {
  /** By account name, in the file's order. */
  accounts: ReadonlyArray<{ name: string; batchQps: number; exactQps: number; instances: readonly LocalInstance[] }>;
  /** Where RabbitMQ's HTTP auth backend asks (prepare-rabbitmq.sh), with LOCAL_STATUS_NOTICES_URL. */
  amqpAuthUrl?: string;
  stop(): Promise<void>;
}

export async function startLocalInstances(config: LocalInstancesConfig, logger: LocalLogger = silentLogger): Promise<LocalInstances> {
  const started: LocalInstance[] = [];
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const accounts = [];
    for (const account of config.accounts) {
      const limiters = accountLimiters(account.batchQps, account.exactQps);
      const instances: LocalInstance[] = [];
      for (const instanceConfig of account.instances) {
        const local = await startLocalInstance(instanceConfig, logger, limiters);
        stops.push(() => local.stop());
        instances.push(local);
        started.push(local);
      }
      accounts.push({ name: account.name, batchQps: account.batchQps, exactQps: account.exactQps, instances });
    }
    const authUrls = Object.fromEntries(started.filter((local) => local.amqpAuthUrl).map((local) => [local.instanceId, local.amqpAuthUrl!]));
    let amqpAuthUrl: string | undefined;
    if (Object.keys(authUrls).length > 0) {
      const router = await startAmqpAuthRouter(authUrls, '127.0.0.1', config.amqpAuthPort);
      stops.push(() => router.close());
      amqpAuthUrl = router.url;
    }
    let stopping: Promise<void> | undefined;
    return { accounts, amqpAuthUrl, stop: () => (stopping ??= stopAll()) };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
