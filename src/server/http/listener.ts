import type { Server, ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';

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

/** Listens; resolves with `http://host:port`, the host as a client would name it. */
export async function listenOn(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost}:${address.port}`;
}

