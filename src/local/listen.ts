import type { Server } from 'node:net';
import { listenFailure } from '../common/start-errors';

/**
 * Listens on `host:port` and resolves with the bound port (the free one chosen when `port` is 0).
 * With `portSetting` (the setting that chose the port, e.g. LOCAL_OPENAPI_PORT), a taken port
 * rejects with a StartError naming it.
 */
export function listen(server: Server, host: string, port: number, portSetting?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(portSetting ? listenFailure(error, { portSetting, hostSetting: 'LOCAL_HOST', host, port }) : error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error(`server on ${host}:${port} has no TCP address`));
        return;
      }
      resolve(address.port);
    });
  });
}

export function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

/** `host:port` as it appears in a URL (IPv6 literals need brackets). */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Rejects a port option that is not a whole number from 0 to 65535, naming the option. */
export function assertPort(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(`${name} must be a whole number from 0 to 65535; got ${String(value)}`);
  }
}
