import type { ServerResponse } from 'node:http';

/**
 * A request answered before GraphQL runs (bad body, too long, unauthenticated, too many operations):
 * an HTTP status with a GraphQL-shaped body, `{ errors: [{ message, extensions: { code } }] }`, as
 * Apollo answers the requests it refuses itself.
 */
export interface HttpRefusal {
  status: number;
  message: string;
  code: string;
  headers?: Record<string, string>;
  /** More of `extensions` beside the code (a RATE_LIMITED refusal's `retryAfterMs`). */
  extensions?: Record<string, unknown>;
  /** Answered this long after the refusal is decided, not at once (held-refusals.ts): a caller over its share. */
  delayMs?: number;
}

export function refusal(status: number, message: string, code = 'BAD_REQUEST', headers?: Record<string, string>): HttpRefusal {
  return { status, message, code, headers };
}

export function sendRefusal(res: ServerResponse, { status, message, code, headers, extensions }: HttpRefusal): void {
  res.statusCode = status;
  if (headers) for (const name in headers) res.setHeader(name, headers[name]);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ errors: [{ message, extensions: { ...extensions, code } }] }));
}

export function isRefusal(value: unknown): value is HttpRefusal {
  return typeof value === 'object' && value !== null && 'status' in value && 'code' in value;
}
