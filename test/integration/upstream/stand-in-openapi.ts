import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A deliberately small stand-in for the onsmqtt endpoint, for what the local emulator does not model:
 * the undocumented reading where BatchQuerySessionByClientIds leaves IDs out, and raw answers no
 * conforming server sends (wrong types, HTML from a proxy). It checks no signature; the emulator does.
 */
export interface StandInOpenApi {
  endpoint: string;
  /** Every request as received: method, path, decoded query and headers. */
  readonly requests: ReadonlyArray<{ method: string; path: string; query: URLSearchParams; headers: IncomingHttpHeaders }>;
  readonly online: Map<string, boolean>;
  /** Client IDs left out of batch answers. */
  readonly omitted: Set<string>;
  /** Answer following calls with this error Code (HTTP 500), until set back to undefined. */
  fault: 'SystemOverFlow' | 'InternalError' | undefined;
  /** Answer the next call with exactly this, whatever it asked. */
  answerNextWith(status: number, body: string, contentType?: string): void;
  close(): Promise<void>;
}

export async function startStandInOpenApi(instanceId: string): Promise<StandInOpenApi> {
  const requests: Array<{ method: string; path: string; query: URLSearchParams; headers: IncomingHttpHeaders }> = [];
  const canned: Array<{ status: number; body: string; contentType: string }> = [];
  const state = { online: new Map<string, boolean>(), omitted: new Set<string>(), fault: undefined as StandInOpenApi['fault'] };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers });
    req.resume();
    const send = (status: number, body: string, contentType = 'application/json;charset=utf-8') => {
      res.writeHead(status, { 'content-type': contentType });
      res.end(body);
    };
    const next = canned.shift();
    if (next) return send(next.status, next.body, next.contentType);
    const RequestId = randomUUID();
    if (state.fault) return send(500, JSON.stringify({ RequestId, Code: state.fault, Message: 'try again' }));
    if (url.searchParams.get('InstanceId') !== instanceId) {
      return send(400, JSON.stringify({ RequestId, Code: 'InstancePermissionCheckFailed', Message: 'not authorised' }));
    }
    if (req.headers['x-acs-action'] === 'QuerySessionByClientId') {
      return send(200, JSON.stringify({ RequestId, OnlineStatus: state.online.get(url.searchParams.get('ClientId') ?? '') ?? false }));
    }
    const ids = [...url.searchParams].filter(([name]) => name.startsWith('ClientIdList.')).map(([, id]) => id);
    const OnlineStatusList = ids
      .filter((id) => !state.omitted.has(id))
      .reverse() // the order is undocumented: never the request's
      .map((id) => ({ ClientId: id, OnlineStatus: state.online.get(id) ?? false }));
    send(200, JSON.stringify({ RequestId, OnlineStatusList }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    online: state.online,
    omitted: state.omitted,
    get fault() {
      return state.fault;
    },
    set fault(code) {
      state.fault = code;
    },
    answerNextWith(status, body, contentType = 'application/json;charset=utf-8') {
      canned.push({ status, body, contentType });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // The SDK keeps connections alive: without this, close() would wait for them to idle out.
      server.closeAllConnections();
      await closed;
    },
  };
}
