import { createServer } from 'node:net';
import { LiveSessions } from '../../../src/local/live-sessions';
import { startOpenApiEmulator, type OpenApiEmulator } from '../../../src/local/openapi-emulator';
import {
  PresenceErrorCode,
  UpstreamAuthFailedError,
  UpstreamRejectedError,
  UpstreamThrottledError,
  UpstreamUnavailableError,
} from '../../../src/presence/errors';
import { SessionAction } from '../../../src/presence/session-api';
import { createAlibabaSessionApi, type AlibabaSessionApiConfig } from '../../../src/upstream/alibaba-session-api';
import { describeSessionApiContract, failureOf } from './session-api-contract';
import { startStandInOpenApi, type StandInOpenApi } from './stand-in-openapi';

const INSTANCE_ID = 'mqtt-upstream-test';
const ACCESS_KEY_ID = 'LTAIupstreamtest0001';
const ACCESS_KEY_SECRET = 'upstream-test-secret-9f8e7d';
const credential = { accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET };
const timeouts = { connectTimeoutMs: 2000, readTimeoutMs: 2000 };

function faultsFor(code: 'SystemOverFlow' | 'InternalError' | undefined) {
  return { systemOverFlowRate: code === 'SystemOverFlow' ? 1 : 0, internalErrorRate: code === 'InternalError' ? 1 : 0 };
}

describeSessionApiContract(
  'AlibabaSessionApi over the local OpenAPI emulator',
  async () => {
    const sessions = new LiveSessions();
    const emulator = await startOpenApiEmulator({ instanceId: INSTANCE_ID, accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET, sessions, batchLagMs: 0 });
    return {
      api: createAlibabaSessionApi({ endpoint: emulator.endpoint, ...timeouts, credential }),
      instanceId: INSTANCE_ID,
      foreignInstanceId: 'mqtt-someone-else',
      setOnline: (clientId, online) => (online ? sessions.connected(clientId) : sessions.disconnected(clientId)),
      injectFault: (code) => emulator.setFaults(faultsFor(code)),
      close: () => emulator.close(),
    };
  },
  { omitsIds: false, injectsFaults: true },
);

describeSessionApiContract(
  'AlibabaSessionApi over a stand-in that leaves unknown IDs out of batch answers',
  async () => {
    const standIn = await startStandInOpenApi(INSTANCE_ID);
    return {
      api: createAlibabaSessionApi({ endpoint: standIn.endpoint, ...timeouts, credential }),
      instanceId: INSTANCE_ID,
      foreignInstanceId: 'mqtt-someone-else',
      setOnline: (clientId, online) => void standIn.online.set(clientId, online),
      omitFromBatchAnswers: (clientId) => void standIn.omitted.add(clientId),
      injectFault: (code) => void (standIn.fault = code),
      close: () => standIn.close(),
    };
  },
  { omitsIds: true, injectsFaults: true },
);

describe('AlibabaSessionApi against the local OpenAPI emulator', () => {
  const sessions = new LiveSessions();
  let emulator: OpenApiEmulator;
  const api = (overrides: Partial<AlibabaSessionApiConfig> = {}) =>
    createAlibabaSessionApi({ endpoint: emulator.endpoint, ...timeouts, credential, ...overrides });
  const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `GID_${prefix}@@@device-${i + 1}`);

  beforeAll(async () => {
    emulator = await startOpenApiEmulator({ instanceId: INSTANCE_ID, accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET, sessions, batchLagMs: 0, exactQps: 1 });
  });
  beforeEach(() => {
    emulator.resetCalls();
    emulator.setFaults({ ...faultsFor(undefined), latencyMs: 0 });
  });
  afterAll(() => emulator.close());

  it('sends one V3-signed BatchQuerySessionByClientIds call naming every Client ID, and matches the shuffled answer by ClientId', async () => {
    const clientIds = ids('signed', 10);
    clientIds.filter((_, i) => i % 2 === 0).forEach((id) => sessions.connected(id));

    const answer = await api().batchQuerySessions(INSTANCE_ID, clientIds);

    expect(emulator.calls).toEqual([
      expect.objectContaining({ action: SessionAction.Batch, instanceId: INSTANCE_ID, clientIds, status: 200, code: 'ok', signatureVersion: 'v3' }),
    ]);
    expect([...answer.statuses].sort()).toEqual(clientIds.map((id, i) => [id, i % 2 === 0]).sort());
  });

  it('refuses a wrong AccessKey secret as an operator problem with SignatureDoesNotMatch and the RequestId, without echoing the secret', async () => {
    const wrongSecret = 'not-the-secret-0123456789';

    const error = await failureOf(api({ credential: { accessKeyId: ACCESS_KEY_ID, accessKeySecret: wrongSecret } }).batchQuerySessions(INSTANCE_ID, ids('wrong', 1)));

    expect(error).toBeInstanceOf(UpstreamAuthFailedError);
    expect(error.code).toBe(PresenceErrorCode.UpstreamAuthFailed);
    expect(error.upstream).toEqual({ code: 'SignatureDoesNotMatch', requestId: expect.stringMatching(/\S/) });
    expect(error.message).toContain(error.upstream!.requestId);
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain(wrongSecret);
    expect(error.message).not.toContain(ACCESS_KEY_SECRET);
  });

  it('refuses an instance the account does not own as an operator problem with InstancePermissionCheckFailed', async () => {
    const error = await failureOf(api().batchQuerySessions('mqtt-someone-else', ids('foreign', 1)));

    expect(error).toBeInstanceOf(UpstreamAuthFailedError);
    expect(error.upstream?.code).toBe('InstancePermissionCheckFailed');
  });

  it('maps an injected SystemOverFlow to UpstreamThrottledError with a retry hint', async () => {
    emulator.setFaults(faultsFor('SystemOverFlow'));

    const error = await failureOf(api().batchQuerySessions(INSTANCE_ID, ids('throttled', 1)));

    expect(error).toBeInstanceOf(UpstreamThrottledError);
    expect((error as UpstreamThrottledError).retryAfterMs).toBe(1000);
  });

  it('maps the QPS limit of QuerySessionByClientId being exceeded to UpstreamThrottledError', async () => {
    // The emulator admits exactQps = 1 call per rolling second: the second call in a row is over it.
    const calls = await Promise.allSettled([api().querySession(INSTANCE_ID, 'GID_qps@@@a'), api().querySession(INSTANCE_ID, 'GID_qps@@@b')]);

    const rejected = calls.filter((call): call is PromiseRejectedResult => call.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0].reason).toBeInstanceOf(UpstreamThrottledError);
    expect(rejected[0].reason.upstream.code).toBe('SystemOverFlow');
  });

  it('maps an injected InternalError to UpstreamUnavailableError after exactly one call', async () => {
    emulator.setFaults(faultsFor('InternalError'));

    const error = await failureOf(api().batchQuerySessions(INSTANCE_ID, ids('internal', 1)));

    // One call: the SDK's own retry is off, retries belong to presence/.
    expect(emulator.calls).toHaveLength(1);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error.upstream?.code).toBe('InternalError');
  });

  it('sends 11 Client IDs in one call, as asked, and maps the refusal to UpstreamRejectedError', async () => {
    const error = await failureOf(api().batchQuerySessions(INSTANCE_ID, ids('eleven', 11)));

    expect(emulator.calls).toHaveLength(1);
    expect(emulator.calls[0].clientIds).toHaveLength(11);
    expect(error).toBeInstanceOf(UpstreamRejectedError);
    expect(error.upstream).toEqual({ code: 'ParameterCheckFailed', requestId: expect.any(String) });
  });

  it('maps a malformed Client ID refused upstream to UpstreamRejectedError', async () => {
    const error = await failureOf(api().batchQuerySessions(INSTANCE_ID, ['not-a-client-id']));

    expect(error).toBeInstanceOf(UpstreamRejectedError);
  });

  it('maps an answer slower than readTimeoutMs to UpstreamUnavailableError with upstream code timeout', async () => {
    emulator.setFaults({ latencyMs: 1500 });

    const error = await failureOf(api({ connectTimeoutMs: 5000, readTimeoutMs: 200 }).batchQuerySessions(INSTANCE_ID, ids('slow', 1)));

    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error.upstream).toEqual({ code: 'timeout' });
  });

  it('also times out an answer slower than connectTimeoutMs, as httpx applies it as the socket idle timeout', async () => {
    emulator.setFaults({ latencyMs: 1500 });

    const error = await failureOf(api({ connectTimeoutMs: 200, readTimeoutMs: 5000 }).batchQuerySessions(INSTANCE_ID, ids('idle', 1)));

    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error.upstream).toEqual({ code: 'timeout' });
  });
});

describe('AlibabaSessionApi without a reachable endpoint', () => {
  it('maps a refused connection to UpstreamUnavailableError with upstream code network', async () => {
    const closedPort = await freePortThenClose();
    const api = createAlibabaSessionApi({ endpoint: `http://127.0.0.1:${closedPort}`, ...timeouts, credential });

    const error = await failureOf(api.batchQuerySessions(INSTANCE_ID, ['GID_nobody@@@home']));

    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error.upstream).toEqual({ code: 'network' });
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('AlibabaSessionApi reading answers defensively', () => {
  let standIn: StandInOpenApi;
  const api = () => createAlibabaSessionApi({ endpoint: standIn.endpoint, ...timeouts, credential });

  beforeAll(async () => {
    standIn = await startStandInOpenApi(INSTANCE_ID);
  });
  afterAll(() => standIn.close());

  it('sends the RPC request the generated SDK sends: POST / with the list flattened into the query', async () => {
    await api().batchQuerySessions(INSTANCE_ID, ['GID_a@@@1', 'GID_a@@@2']);

    const request = standIn.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/');
    expect([...request.query]).toEqual([['InstanceId', INSTANCE_ID], ['ClientIdList.1', 'GID_a@@@1'], ['ClientIdList.2', 'GID_a@@@2']]);
    expect(request.headers).toMatchObject({ 'x-acs-action': SessionAction.Batch, 'x-acs-version': '2020-04-20' });
    expect(request.headers.authorization).toMatch(/^ACS3-HMAC-SHA256 Credential=LTAIupstreamtest0001,SignedHeaders=.+,Signature=[0-9a-f]{64}$/);
  });

  it('reads OnlineStatus given as the strings "true" and "false", as the official SDK\'s cast does', async () => {
    standIn.answerNextWith(200, JSON.stringify({ RequestId: 'R1', OnlineStatusList: [{ ClientId: 'GID_a@@@1', OnlineStatus: 'true' }, { ClientId: 'GID_a@@@2', OnlineStatus: 'false' }] }));

    const answer = await api().batchQuerySessions(INSTANCE_ID, ['GID_a@@@1', 'GID_a@@@2']);

    expect(answer).toEqual({ requestId: 'R1', statuses: new Map([['GID_a@@@1', true], ['GID_a@@@2', false]]) });
  });

  it.each([
    ['an OnlineStatus that is not a boolean', JSON.stringify({ RequestId: 'R2', OnlineStatusList: [{ ClientId: 'GID_a@@@1', OnlineStatus: 'maybe' }] }), 'R2'],
    ['an entry without ClientId', JSON.stringify({ RequestId: 'R3', OnlineStatusList: [{ OnlineStatus: true }] }), 'R3'],
    ['no OnlineStatusList', JSON.stringify({ RequestId: 'R4' }), 'R4'],
    ['no RequestId', JSON.stringify({ OnlineStatusList: [] }), undefined],
    ['a JSON array', '[]', undefined],
  ])('fails a 200 answer with %s as a malformed answer, not a crash', async (_case, body, requestId) => {
    standIn.answerNextWith(200, body);

    const error = await failureOf(api().batchQuerySessions(INSTANCE_ID, ['GID_a@@@1']));

    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error.upstream).toEqual({ code: 'MalformedResponse', requestId });
  });

  it('fails an HTML page from a proxy as a malformed answer', async () => {
    standIn.answerNextWith(502, '<html><body>502 Bad Gateway</body></html>', 'text/html');

    const error = await failureOf(api().querySession(INSTANCE_ID, 'GID_a@@@1'));

    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error.upstream?.code).toBe('MalformedResponse');
  });

  it('fails a 503 whose JSON body has no Code as unavailable, keeping its RequestId', async () => {
    standIn.answerNextWith(503, JSON.stringify({ RequestId: 'R503' }));

    const error = await failureOf(api().querySession(INSTANCE_ID, 'GID_a@@@1'));

    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error.upstream).toEqual({ code: 'HTTP_503', requestId: 'R503' });
  });

  it('fails an exact answer whose OnlineStatus is missing as a malformed answer', async () => {
    standIn.answerNextWith(200, JSON.stringify({ RequestId: 'R5' }));

    const error = await failureOf(api().querySession(INSTANCE_ID, 'GID_a@@@1'));

    expect(error.upstream).toEqual({ code: 'MalformedResponse', requestId: 'R5' });
  });
});

/** A port nothing listens on: bound by the OS, then released. */
async function freePortThenClose(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
