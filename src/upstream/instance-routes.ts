import type { AccountConfig, InstanceCatalogue, UpstreamConfig } from '../config';
import { InvalidInputError } from '../presence/errors';
import type { BatchSessionAnswer, ExactSessionAnswer, SessionApi } from '../presence/session-api';
import { createAlibabaSessionApi } from './alibaba-session-api';
import { resolveCredentials } from './credentials/resolve-credentials';
import type { RenewingCredentials, RenewingCredentialsOptions } from './credentials/renewing-credentials';
import { resolveEndpoint } from './openapi-client';

/**
 * One way out to the cloud: the instances of one account reached at one endpoint (one region), one
 * signed client for them. The presence core gives each route its own dispatcher and circuit breaker,
 * and the routes of one account one budget (presence-core.ts).
 */
export interface InstanceRoute {
  /** `<account> <endpoint>`: in logs. */
  readonly name: string;
  readonly account: AccountConfig;
  /** Where calls go, `https://onsmqtt.cn-hangzhou.aliyuncs.com`: never a credential. */
  readonly endpoint: string;
  readonly instanceIds: readonly string[];
  readonly api: SessionApi;
}

/** Every route of INSTANCES_FILE, and each account's credentials: one per process. */
export interface InstanceRoutes {
  readonly routes: readonly InstanceRoute[];
  /** Each account's renewing credentials, by account name: for /readyz and the start log. */
  readonly credentials: ReadonlyMap<string, RenewingCredentials>;
  /** The route of an instance; undefined when the catalogue does not name it. */
  routeOf(instanceId: string): InstanceRoute | undefined;
  /** A SessionApi over every route, by instance (for the subscription poller). */
  readonly api: SessionApi;
  close(): void;
}

/**
 * Resolves each account's credentials (each source must answer at start, as the single account's
 * does: credentials/resolve-credentials.ts) and builds one signed client per account and endpoint.
 */
export async function createInstanceRoutes(
  catalogue: InstanceCatalogue,
  upstream: Pick<UpstreamConfig, 'connectTimeoutMs' | 'readTimeoutMs'>,
  options: RenewingCredentialsOptions = {},
): Promise<InstanceRoutes> {
  const credentials = new Map<string, RenewingCredentials>();
  const closeAll = () => {
    for (const held of credentials.values()) held.close();
  };
  try {
    for (const account of Object.values(catalogue.accounts)) {
      try {
        credentials.set(account.name, await resolveCredentials(account.credentials, upstream, options));
      } catch (error) {
        (error as Error).message = `INSTANCES_FILE account ${account.name}: ${(error as Error).message}`;
        throw error;
      }
    }
    const routes = new Map<string, InstanceRoute & { instanceIds: string[] }>();
    const byInstance = new Map<string, InstanceRoute>();
    for (const instance of Object.values(catalogue.instances)) {
      const { host, protocol } = resolveEndpoint(instance);
      const endpoint = `${protocol}://${host}`;
      const name = `${instance.account} ${endpoint}`;
      let route = routes.get(name);
      if (!route) {
        const api = createAlibabaSessionApi({
          endpoint,
          regionId: instance.regionId,
          connectTimeoutMs: upstream.connectTimeoutMs,
          readTimeoutMs: upstream.readTimeoutMs,
          credentials: credentials.get(instance.account)!,
        });
        route = { name, account: catalogue.accounts[instance.account], endpoint, instanceIds: [], api };
        routes.set(name, route);
      }
      route.instanceIds.push(instance.instanceId);
      byInstance.set(instance.instanceId, route);
    }
    const apiOf = (instanceId: string): SessionApi => {
      const route = byInstance.get(instanceId);
      if (!route) throw new InvalidInputError(`Instance ${JSON.stringify(instanceId)} is not in INSTANCES_FILE`);
      return route.api;
    };
    return {
      routes: [...routes.values()],
      credentials,
      routeOf: (instanceId) => byInstance.get(instanceId),
      api: {
        batchQuerySessions: async (instanceId: string, clientIds: readonly string[]): Promise<BatchSessionAnswer> => apiOf(instanceId).batchQuerySessions(instanceId, clientIds),
        querySession: async (instanceId: string, clientId: string): Promise<ExactSessionAnswer> => apiOf(instanceId).querySession(instanceId, clientId),
      },
      close: closeAll,
    };
  } catch (error) {
    closeAll();
    throw error;
  }
}
