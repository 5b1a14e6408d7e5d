import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  /** Concurrent connections, each with one request in flight (closed loop) unless `ratePerSecond`. */
  connections: number;
  durationSeconds: number;
  /** A fixed body, or a function called for each request (fresh Client IDs). */
  body: string | (() => string);
  /** Open loop: requests per second over all connections. */
  ratePerSecond?: number;
  /** Headers sent besides the JSON content type (an API key). */
  headers?: Record<string, string>;
  /** Parse responses that carry `errors` and count their `extensions.code` (costs client CPU). */
  countErrorCodes?: boolean;
}

export interface LoadResult {
  /** 2xx responses per second over the run. */
  requestsPerSecond: number;
  completed: number;
  /** Milliseconds, as autocannon measures them (2xx only). */
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  /** GraphQL error codes seen in responses (only with `countErrorCodes`). */
  errorCodes: Record<string, number>;
  /** Responses with an `errors` array (only with `countErrorCodes`). */
  responsesWithErrors: number;
}

const HEADERS = { 'content-type': 'application/json' };

/**
 * One load run with autocannon's programmatic API, in this (the orchestrator's) process: the servers
 * under test run in processes of their own.
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const errorCodes: Record<string, number> = {};
  let responsesWithErrors = 0;
  const makeBody = options.body;
  const request: autocannon.Request = { method: 'POST', headers: { ...HEADERS, ...options.headers } };
  if (typeof makeBody === 'string') request.body = makeBody;
  else request.setupRequest = (req) => ({ ...req, body: makeBody() });
  if (options.countErrorCodes) {
    request.onResponse = (_status, body) => {
      if (!body.includes('"errors"')) return;
      responsesWithErrors++;
      try {
        for (const error of (JSON.parse(jsonOf(body)) as { errors?: Array<{ extensions?: { code?: string } }> }).errors ?? []) {
          const code = error.extensions?.code ?? 'NO_CODE';
          errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        }
      } catch {
        errorCodes.UNPARSEABLE_RESPONSE = (errorCodes.UNPARSEABLE_RESPONSE ?? 0) + 1;
      }
    };
  }
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationSeconds,
        overallRate: options.ratePerSecond,
        timeout: 10,
        requests: [request],
      },
      (error, result) => {
        if (error) return reject(error);
        const completed = result['2xx'];
        resolve({
          requestsPerSecond: completed / result.duration,
          completed,
          latencyMs: {
            p50: result.latency.p50,
            p90: result.latency.p90,
            p99: result.latency.p99,
            max: result.latency.max,
            mean: result.latency.mean,
          },
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          errorCodes,
          responsesWithErrors,
        });
      },
    );
  });
}

/** A short unmeasured run: lets V8 optimise the server's hot path before a measured round. */
export async function warmUp(url: string, body: string, seconds = 2, headers?: Record<string, string>): Promise<void> {
  await runLoad({ url, connections: 16, durationSeconds: seconds, body, headers });
}

/** A JSON answer as it is, or the first event's data of an event stream (graphql-sse's `next`). */
function jsonOf(body: string): string {
  const data = body.startsWith('{') ? -1 : body.indexOf('data:');
  if (data === -1) return body;
  const start = data + 'data:'.length;
  const end = body.indexOf('\n', start);
  return body.slice(start, end === -1 ? undefined : end);
}
