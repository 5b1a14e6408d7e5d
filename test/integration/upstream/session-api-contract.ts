import {
  PresenceErrorCode,
  UpstreamAuthFailedError,
  UpstreamThrottledError,
  UpstreamUnavailableError,
  type PresenceError,
} from '../../../src/presence/errors';
import type { SessionApi } from '../../../src/presence/session-api';

/**
 * The behaviour every `SessionApi` owes the presence core (src/presence/session-api.ts), as one suite
 * that runs against any implementation: AlibabaSessionApi over the emulator, over the cloud, or a test
 * double. Tests needing a capability the backend lacks (omitting IDs, injecting faults) are not defined
 * for it: the suites that run against a backend with the capability prove them.
 */
export interface SessionApiContractCapabilities {
  /** The subject implements `omitFromBatchAnswers`. */
  omitsIds: boolean;
  /** The subject implements `injectFault`. */
  injectsFaults: boolean;
}

export interface SessionApiContractSubject {
  api: SessionApi;
  /** The instance the backend serves. */
  instanceId: string;
  /** An instance the account does not own: calls for it fail as an operator problem. */
  foreignInstanceId: string;
  /** Makes the backend's truth say whether a client has a live session; batch answers must not lag. */
  setOnline(clientId: string, online: boolean): void | Promise<void>;
  /** Makes the backend leave this Client ID out of batch answers (the upstream's undocumented case). */
  omitFromBatchAnswers?(clientId: string): void | Promise<void>;
  /** Makes following calls fail with this upstream code; `undefined` restores normal answers. */
  injectFault?(code: 'SystemOverFlow' | 'InternalError' | undefined): void | Promise<void>;
  /** Releases servers and clients; called once in afterAll. */
  close(): Promise<void>;
}

export function describeSessionApiContract(
  name: string,
  setup: () => Promise<SessionApiContractSubject>,
  capabilities: SessionApiContractCapabilities,
): void {
  // A test needing a capability the backend lacks is left out for that backend, not skipped.
  const itIfFaults = (name: string, fn: () => Promise<void>) => {
    if (capabilities.injectsFaults) it(name, fn);
  };

  describe(`${name} (SessionApi contract)`, () => {
    let subject: SessionApiContractSubject;
    let next = 0;
    /** Fresh Client IDs per test, so tests never see each other's sessions. */
    const clientIds = (count: number): string[] =>
      Array.from({ length: count }, () => `GID_contract@@@device-${process.pid}-${++next}`);

    beforeAll(async () => {
      subject = await setup();
    });
    afterEach(async () => {
      await subject.injectFault?.(undefined);
    });
    afterAll(async () => {
      await subject?.close();
    });

    describe('Answers statuses', () => {
      it('answers every Client ID of a batch by its ClientId, whatever order the upstream uses', async () => {
        const ids = clientIds(10);
        for (const [index, id] of ids.entries()) await subject.setOnline(id, index % 3 === 0);

        const answer = await subject.api.batchQuerySessions(subject.instanceId, ids);

        expect(typeof answer.requestId).toBe('string');
        expect(answer.requestId).not.toBe('');
        expect(new Map(answer.statuses)).toEqual(new Map(ids.map((id, index) => [id, index % 3 === 0])));
      });

      it('answers a client that went offline as offline, not by its last known status', async () => {
        const [id] = clientIds(1);
        await subject.setOnline(id, true);
        await subject.setOnline(id, false);

        const answer = await subject.api.batchQuerySessions(subject.instanceId, [id]);

        expect(answer.statuses.get(id)).toBe(false);
      });

      it('answers one Client ID exactly through the exact action', async () => {
        const [online, offline] = clientIds(2);
        await subject.setOnline(online, true);

        const [a, b] = await Promise.all([
          subject.api.querySession(subject.instanceId, online),
          subject.api.querySession(subject.instanceId, offline),
        ]);

        expect(a.online).toBe(true);
        expect(b.online).toBe(false);
        expect(a.requestId).not.toBe('');
        expect(a.requestId).not.toBe(b.requestId);
      });
    });

    // Whether the upstream leaves unknown IDs out is undocumented (upstream-api.md): absent must stay absent.
    (capabilities.omitsIds ? describe : () => undefined)('Represents what the upstream did not answer', () => {
      it('leaves a Client ID the upstream did not answer out of the map instead of reporting it offline', async () => {
        const [answered, omitted] = clientIds(2);
        await subject.setOnline(answered, true);
        await required(subject.omitFromBatchAnswers, 'omitFromBatchAnswers').call(subject, omitted);

        const answer = await subject.api.batchQuerySessions(subject.instanceId, [answered, omitted]);

        expect(answer.statuses.get(answered)).toBe(true);
        expect(answer.statuses.has(omitted)).toBe(false);
      });
    });

    describe('Represents errors as typed presence errors', () => {
      it('fails a call for an instance the account does not own as an operator problem', async () => {
        const error = await failureOf(subject.api.batchQuerySessions(subject.foreignInstanceId, clientIds(1)));

        expect(error).toBeInstanceOf(UpstreamAuthFailedError);
        expect(error.code).toBe(PresenceErrorCode.UpstreamAuthFailed);
        expect(error.upstream?.requestId).toEqual(expect.any(String));
      });

      itIfFaults('fails a throttled call with UPSTREAM_THROTTLED and a retry hint', async () => {
        await required(subject.injectFault, 'injectFault').call(subject, 'SystemOverFlow');

        const error = await failureOf(subject.api.batchQuerySessions(subject.instanceId, clientIds(1)));

        expect(error).toBeInstanceOf(UpstreamThrottledError);
        expect((error as UpstreamThrottledError).retryAfterMs).toBeGreaterThan(0);
        expect(error.upstream).toEqual({ code: 'SystemOverFlow', requestId: expect.any(String) });
      });

      itIfFaults('fails a call the upstream could not serve with UPSTREAM_UNAVAILABLE', async () => {
        await required(subject.injectFault, 'injectFault').call(subject, 'InternalError');

        const error = await failureOf(subject.api.querySession(subject.instanceId, clientIds(1)[0]));

        expect(error).toBeInstanceOf(UpstreamUnavailableError);
        expect(error.retryable).toBe(true);
        expect(error.upstream).toEqual({ code: 'InternalError', requestId: expect.any(String) });
      });
    });
  });
}

function required<T>(capability: T | undefined, name: string): T {
  if (capability === undefined) throw new Error(`the subject declares the capability but has no ${name}()`);
  return capability;
}

/** The typed error a call failed with; fails the test if the call succeeded. */
export async function failureOf(call: Promise<unknown>): Promise<PresenceError> {
  try {
    await call;
  } catch (error) {
    return error as PresenceError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
