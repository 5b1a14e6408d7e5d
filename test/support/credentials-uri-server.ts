import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StsAuthority } from './sts-authority';

/**
 * A credentials URI (ALIBABA_CLOUD_CREDENTIALS_URI) on loopback: GET answers the authority's current
 * key in the shape `@alicloud/credentials` reads (providers/uri.js: `Code`, `AccessKeyId`,
 * `AccessKeySecret`, `SecurityToken`, `Expiration`). It checks what it is sent: only GET of its own
 * path with its query token. `answering = false` makes it stop answering: each connection is cut
 * without a byte, as a dead sidecar would.
 */
export interface CredentialsUriServer {
  /** The URI to configure, with a query token of its own (which must never reach a log). */
  uri: string;
  answering: boolean;
  readonly served: number;
  readonly refusedRequests: number;
  close(): Promise<void>;
}

export async function startCredentialsUriServer(authority: StsAuthority, queryToken = 'uri-TOPSECRET-query'): Promise<CredentialsUriServer> {
  const state = { answering: true, served: 0, refusedRequests: 0 };
  const server = createServer((req, res) => {
    if (!state.answering) return req.socket.destroy();
    const url = new URL(req.url ?? '/', 'http://uri');
    if (req.method !== 'GET' || url.pathname !== '/credentials' || url.searchParams.get('token') !== queryToken) {
      state.refusedRequests++;
      res.writeHead(403).end('{"Code":"Forbidden"}');
      return;
    }
    state.served++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ Code: 'Success', ...authority.current() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/credentials?token=${queryToken}`,
    get answering() {
      return state.answering;
    },
    set answering(value) {
      state.answering = value;
    },
    get served() {
      return state.served;
    },
    get refusedRequests() {
      return state.refusedRequests;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
