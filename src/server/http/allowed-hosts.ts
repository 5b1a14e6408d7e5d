import type { IncomingHttpHeaders, RequestListener } from 'node:http';
import { ConnectionRefusal, type ConnectionRefusalLog } from '../observability/connection-refusal-log';
import { refusal, sendRefusal } from './http-refusal';

/**
 * Whether a request's Host header names this service (ALLOWED_HOSTS, port aside). DNS rebinding: a
 * page on `evil.example` points its name at this address and reads the answers as same-origin; its
 * requests carry `Host: evil.example`, so they are refused here. Undefined `allowed`: any name.
 */
export function hostAllowed(allowed: readonly string[] | undefined): (headers: IncomingHttpHeaders) => boolean {
  if (allowed === undefined) return () => true;
  const names = new Set(allowed);
  return (headers) => {
    const name = hostNameOf(headers.host);
    return name !== undefined && names.has(name);
  };
}

/** `example.com:4000` → `example.com`, `[::1]:4000` → `[::1]`, lower-cased; undefined without one. */
function hostNameOf(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.lastIndexOf(':');
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}

/**
 * The listener behind a Host check: a request naming another host gets 421 Misdirected Request
 * ("not the server for this name") and its connection closed, before anything else runs.
 */
export function withHostCheck(allowed: readonly string[] | undefined, refusals: ConnectionRefusalLog, listener: RequestListener): RequestListener {
  if (allowed === undefined) return listener;
  const allows = hostAllowed(allowed);
  return (req, res) => {
    if (allows(req.headers)) return listener(req, res);
    refusals.record(ConnectionRefusal.UnknownHost, 'http', req.headers.host);
    sendRefusal(res, refusal(421, 'This server does not answer for this host name (ALLOWED_HOSTS)', 'BAD_REQUEST', { connection: 'close' }));
  };
}
