import type { Server, ServerOptions } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { listenFailure } from '../../common/start-errors';

/** The settings that chose a listener's address, named when it cannot bind: PORT and HOST, or OPS_PORT and OPS_HOST. */
export interface ListenSettings {
  portSetting: string;
  hostSetting: string;
}

export const GRAPHQL_LISTENER: ListenSettings = Object.freeze({ portSetting: 'PORT', hostSetting: 'HOST' });
export const OPS_LISTENER: ListenSettings = Object.freeze({ portSetting: 'OPS_PORT', hostSetting: 'OPS_HOST' });

const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

/** The options of every listener of the service: the GraphQL port's, and OPS_PORT's. */
export function serverOptions(): ServerOptions {
  return {
    // Node's defaults (60 s for headers, 300 s for the whole request) let a client that sends a byte
    // now and then hold a connection for minutes, before authentication for the headers. A request
    // here is at most 64 KiB: a client that needs more than this is not one to wait for.
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Node checks both only this often (30 s by default), which would make them 10-40 s and 30-60 s.
    connectionsCheckingInterval: 1000,
  };
}

/**
 * Listens; resolves with `http://host:port`, the host as a client would name it. A port that cannot
 * be bound rejects with a StartError naming `settings`.
 */
export async function listenOn(server: Server, port: number, host: string, settings: ListenSettings): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(listenFailure(error, { ...settings, host, port }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost}:${address.port}`;
}


/**
 * Binds `host:port` for a moment and lets go: run before anything else starts, so a taken PORT stops
 * the start at once, naming the setting, instead of after the local instance and the stores are up.
 * The real listen still checks (another process may take the port in between).
 */
export async function assertCanListen(port: number, host: string, settings: ListenSettings): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error) => reject(listenFailure(error, { ...settings, host, port })));
    probe.listen({ port, host, exclusive: true }, () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}
