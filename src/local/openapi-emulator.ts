import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionAction } from '../presence/session-api';
import { assertPort, hostPort, listen } from './listen';
import type { LiveSessions } from './live-sessions';
import { faultBody, faults, OpenApiFault } from './openapi-errors';
import { headerValue, signatureVersionOf, SignatureVerifier, type SignatureVersion, type SignedRequest } from './openapi-signature';
import { answerSessionAction, clientIdsOf, isSessionAction } from './session-actions';
import { SlidingLogLimiter } from './sliding-log-limiter';

export interface FaultInjection {
  /** Share of admitted calls answered 500 SystemOverFlow, 0..1. */
  systemOverFlowRate: number;
  /** Share of admitted calls answered 500 InternalError, 0..1. */
  internalErrorRate: number;
  /** Added before every answer, errors included. */
  latencyMs: number;
}

export interface OpenApiEmulatorOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** The one instance served; any other answers InstancePermissionCheckFailed. */
  instanceId: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** The truth: the embedded broker's live sessions. */
  sessions: LiveSessions;
  /** BatchQuerySessionByClientIds answers the state of `now - batchLagMs`; QuerySessionByClientId answers now. */
  batchLagMs: number;
  /** Admitted calls per rolling second, per action; more answer 500 SystemOverFlow. @default 100 / 500 */
  batchQps?: number;
  exactQps?: number;
  /**
   * The account's limits, shared by the emulators of its instances (local-instances.ts), as the cloud
   * counts 100 / 500 calls per second per account; `batchQps` and `exactQps` are ignored then.
   */
  limiters?: AccountLimiters;
  faults?: Partial<FaultInjection>;
  /** Drives fault injection and the answer order, for deterministic tests. @default Math.random */
  random?: () => number;
}

/** One account's calls per rolling second, per action. */
export type AccountLimiters = Readonly<Record<SessionAction, SlidingLogLimiter>>;

export function accountLimiters(batchQps: number, exactQps: number): AccountLimiters {
  return {
    [SessionAction.Batch]: new SlidingLogLimiter(wholeAtLeastOne('batchQps', batchQps)),
    [SessionAction.Exact]: new SlidingLogLimiter(wholeAtLeastOne('exactQps', exactQps)),
  };
}

/** How many calls `calls` keeps at most (about 20 MB): at 100 calls/s, the last few minutes. */
const MAX_LOGGED_CALLS = 100_000;

/** One HTTP call as the emulator saw it, rejected calls included. */
export interface EmulatorCall {
  action: string;
  instanceId?: string;
  clientIds: string[];
  /** Arrival time, ms since the epoch. */
  at: number;
  status: number;
  /** 'ok', or the error Code answered. */
  code: string;
  signatureVersion: SignatureVersion;
}

export interface OpenApiEmulator {
  /** 'http://127.0.0.1:PORT' */
  endpoint: string;
  port: number;
  /** The calls received, oldest first; the newest MAX_LOGGED_CALLS (100,000) at most. */
  readonly calls: readonly EmulatorCall[];
  resetCalls(): void;
  setFaults(faults: Partial<FaultInjection>): void;
  close(): Promise<void>;
}

/** onsmqtt's API version (upstream-api.md). */
const API_VERSION = '2020-04-20';
/** Far above any legitimate call (10 Client IDs of at most 64 characters). */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * An HTTP emulator of the ApsaraMQ for MQTT OpenAPI actions BatchQuerySessionByClientIds and
 * QuerySessionByClientId, with the cloud's wire format (RPC style, `POST /`, parameters in the query
 * string or a form body), signature checks, QPS limits and error codes (upstream-api.md), answering
 * from the embedded broker's live sessions. The ordinary upstream client talks to it unchanged.
 *
 * Checks run in the cloud's order: the API gateway first (routing, signature, AccessKey, timestamp,
 * nonce, action, version), then onsmqtt (QPS, backend faults, parameters, instance). So only
 * signature-valid calls count against the QPS limit, as forged or broken calls never reach onsmqtt,
 * while calls with bad parameters do count: onsmqtt has admitted them before it checks them.
 */
export async function startOpenApiEmulator(options: OpenApiEmulatorOptions): Promise<OpenApiEmulator> {
  const host = options.host ?? '127.0.0.1';
  const { instanceId, sessions, batchLagMs } = options;
  for (const name of ['instanceId', 'accessKeyId', 'accessKeySecret'] as const) {
    if (typeof options[name] !== 'string' || options[name] === '') throw new TypeError(`${name} must be a non-empty string`);
  }
  assertPort('port', options.port ?? 0);
  assertAtLeast('batchLagMs', batchLagMs, 0);
  const random = options.random ?? Math.random;
  const limiters = options.limiters ?? accountLimiters(options.batchQps ?? 100, options.exactQps ?? 500);
  let injected = mergeFaults({ systemOverFlowRate: 0, internalErrorRate: 0, latencyMs: 0 }, options.faults ?? {});
  const verifier = new SignatureVerifier(options);
  const calls: EmulatorCall[] = [];
  const closing = new AbortController();
  // Every answer delayed by `latencyMs` listens on it while it waits: as many as calls in flight, so
  // Node's warning at 10 listeners would be noise, not a leak.
  setMaxListeners(0, closing.signal);

  const server = createServer((req, res) => void handle(req, res));
  const port = await listen(server, host, options.port ?? 0, 'LOCAL_OPENAPI_PORT');

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const requestId = randomUUID().toUpperCase();
    const call: EmulatorCall = { action: '', clientIds: [], at, status: 200, code: 'ok', signatureVersion: 'none' };
    let answer: Record<string, unknown>;
    try {
      const { request, path } = await readRequest(req);
      call.signatureVersion = signatureVersionOf(request);
      call.action = (call.signatureVersion === 'v3' ? headerValue(request.headers, 'x-acs-action') : request.params.get('Action')) ?? '';
      call.instanceId = request.params.get('InstanceId');
      call.clientIds = clientIdsOf(call.action, request.params);
      answer = { RequestId: requestId, ...serve(path, request, call.action, at) };
    } catch (error) {
      // Anything unforeseen answers InternalError, as the cloud's would.
      const fault = error instanceof OpenApiFault ? error : faults.internalError();
      answer = faultBody(fault, requestId, req.headers.host ?? hostPort(host, port));
      call.status = fault.status;
      call.code = fault.code;
    }
    calls.push(call);
    // The log is for tests and benchmarks; a local instance left running keeps only the newest calls.
    if (calls.length > MAX_LOGGED_CALLS) calls.splice(0, calls.length - MAX_LOGGED_CALLS / 2);
    try {
      if (injected.latencyMs > 0) await sleep(injected.latencyMs, undefined, { signal: closing.signal });
    } catch {
      return; // closing: the connection is being destroyed anyway
    }
    res.writeHead(call.status, { 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': requestId });
    res.end(JSON.stringify(answer));
  }

  function serve(path: string, request: SignedRequest, action: string, atMs: number): Record<string, unknown> {
    if (path !== '/' || (request.method !== 'POST' && request.method !== 'GET')) {
      throw faults.apiNotSupported(`${request.method} ${path} (RPC calls are GET or POST /)`);
    }
    const version = verifier.verify(request, atMs);
    if (!isSessionAction(action)) throw faults.apiNotSupported(action || 'no action given');
    if ((version === 'v3' ? headerValue(request.headers, 'x-acs-version') : request.params.get('Version')) !== API_VERSION) {
      throw faults.invalidVersion();
    }
    // BatchQuerySessionByClientIds: 100 calls/s; QuerySessionByClientId: 500 calls/s (per account).
    if (!limiters[action].tryAdmit(atMs)) throw faults.systemOverFlow();
    const draw = injected.systemOverFlowRate + injected.internalErrorRate > 0 ? random() : 1;
    if (draw < injected.systemOverFlowRate) throw faults.systemOverFlow();
    if (draw < injected.systemOverFlowRate + injected.internalErrorRate) throw faults.internalError();
    return answerSessionAction(action, request.params, { instanceId, sessions, nowMs: atMs, batchLagMs, random });
  }

  return {
    endpoint: `http://${hostPort(host, port)}`,
    port,
    get calls() {
      return calls;
    },
    resetCalls: () => void calls.splice(0),
    setFaults: (changes) => void (injected = mergeFaults(injected, changes)),
    close: async () => {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Decodes the query string and a form body; a parameter given twice is refused rather than guessed at. */
async function readRequest(req: IncomingMessage): Promise<{ request: SignedRequest; path: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw faults.parameterCheckFailed(`the request body exceeds ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const query = new Map<string, string>();
  const params = new Map<string, string>();
  const add = (map: Map<string, string>, name: string, value: string): void => {
    if (map.has(name)) throw faults.parameterCheckFailed(`parameter ${name} is given more than once.`);
    map.set(name, value);
  };
  const url = new URL(req.url ?? '/', 'http://emulator');
  for (const [name, value] of url.searchParams) {
    add(query, name, value);
    add(params, name, value);
  }
  if (req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
    for (const [name, value] of new URLSearchParams(body.toString('utf8'))) add(params, name, value);
  }
  return { request: { method: req.method ?? 'GET', query, params, headers: req.headers, body }, path: url.pathname };
}

function mergeFaults(current: FaultInjection, changes: Partial<FaultInjection>): FaultInjection {
  const next = { ...current, ...changes };
  for (const name of ['systemOverFlowRate', 'internalErrorRate'] as const) {
    if (!(next[name] >= 0 && next[name] <= 1)) throw new RangeError(`faults.${name} must be from 0 to 1; got ${next[name]}`);
  }
  assertAtLeast('faults.latencyMs', next.latencyMs, 0);
  return next;
}

function assertAtLeast(name: string, value: number, min: number): void {
  if (!(Number.isFinite(value) && value >= min)) throw new RangeError(`${name} must be a number of at least ${min}; got ${value}`);
}

function wholeAtLeastOne(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number of at least 1; got ${value}`);
  return value;
}
