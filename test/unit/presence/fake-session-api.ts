import { CallBudget, MemoryBudgetStore } from '../../../src/presence/budget';
import type { LookupAllowance } from '../../../src/presence/fair-share';
import { PresenceDispatcher, type PresenceDispatcherOptions } from '../../../src/presence/presence-dispatcher';
import { SessionAction, type BatchSessionAnswer, type ExactSessionAnswer, type SessionApi } from '../../../src/presence/session-api';
import type { PresenceKey, PresenceObserver, PresenceOrigin, PresenceResult, PresenceStatus } from '../../../src/presence/types';

export const INSTANCE = 'mqtt-test';

export function key(n: number | string, instanceId = INSTANCE): PresenceKey {
  return { instanceId, clientId: `GID_test@@@device-${n}` };
}

/** Keys `from` … `from + count − 1`. */
export function keys(count: number, from = 0, instanceId = INSTANCE): PresenceKey[] {
  return Array.from({ length: count }, (_, i) => key(from + i, instanceId));
}

export function clientIds(count: number, from = 0): string[] {
  return keys(count, from).map((k) => k.clientId);
}

/** Answers every ID, online when `isOnline` says so. */
export function answerAll(ids: readonly string[], isOnline: (id: string) => boolean = () => true, requestId = 'req-1'): BatchSessionAnswer {
  return { requestId, statuses: new Map(ids.map((id) => [id, isOnline(id)])) };
}

/**
 * A SessionApi that records every call, dataloader-style: `expect(api.calls).toEqual([[…10 ids], […]])`.
 * Each test sets `answerBatch` / `answerExact` to script the upstream; by default every ID is online.
 */
export class FakeSessionApi implements SessionApi {
  /** Client IDs of each BatchQuerySessionByClientIds call, in call order. */
  readonly calls: string[][] = [];
  /** The (fake) clock time of each batch call. */
  readonly callTimes: number[] = [];
  readonly instancesCalled: string[] = [];
  /** Client ID of each QuerySessionByClientId call. */
  readonly exactCalls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;

  answerBatch: (clientIds: string[], call: number) => Promise<BatchSessionAnswer> | BatchSessionAnswer = (ids) => answerAll(ids);
  answerExact: (clientId: string, call: number) => Promise<ExactSessionAnswer> | ExactSessionAnswer = () => ({ requestId: 'req-x', online: true });

  async batchQuerySessions(instanceId: string, ids: readonly string[]): Promise<BatchSessionAnswer> {
    this.calls.push([...ids]);
    this.callTimes.push(Date.now());
    this.instancesCalled.push(instanceId);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await this.answerBatch([...ids], this.calls.length - 1);
    } finally {
      this.inFlight--;
    }
  }

  async querySession(_instanceId: string, clientId: string): Promise<ExactSessionAnswer> {
    this.exactCalls.push(clientId);
    return this.answerExact(clientId, this.exactCalls.length - 1);
  }
}

/** Records what the dispatcher reports, for assertions on metrics. */
export class RecordingObserver implements PresenceObserver {
  readonly upstreamCalls: Array<[SessionAction, string]> = [];
  readonly batchSizes: number[] = [];
  readonly answered: Partial<Record<PresenceOrigin | 'error', number>> = {};

  upstreamCall(action: SessionAction, outcome: string): void {
    this.upstreamCalls.push([action, outcome]);
  }
  batchSize(clientIds: number): void {
    this.batchSizes.push(clientIds);
  }
  lookupsAnswered(result: PresenceOrigin | 'error', count: number): void {
    this.answered[result] = (this.answered[result] ?? 0) + count;
  }
  readonly pollerCalls: string[] = [];
  pollerCall(outcome: string): void {
    this.pollerCalls.push(outcome);
  }
}

export interface TestDispatcherOptions extends Partial<PresenceDispatcherOptions> {
  batchQps?: number;
  exactQps?: number;
}

/** A dispatcher with the service's defaults (100 / 500 QPS, 2 s budget wait, 3 attempts), no cache. */
export function dispatcherFor(api: SessionApi, options: TestDispatcherOptions = {}): PresenceDispatcher {
  const { batchQps = 100, exactQps = 500, ...overrides } = options;
  const store = new MemoryBudgetStore();
  return new PresenceDispatcher({
    api,
    batchBudget: new CallBudget({ store, action: SessionAction.Batch, limitPerSecond: batchQps }),
    exactBudget: new CallBudget({ store, action: SessionAction.Exact, limitPerSecond: exactQps }),
    cacheTtlMs: 0,
    staleIfErrorMs: 0,
    budgetWaitMs: 2000,
    retry: { maxAttempts: 3, baseDelayMs: 50, totalMs: 3000, random: () => 0.5 },
    ...overrides,
  });
}

export function asStatus(result: PresenceResult | undefined): PresenceStatus {
  if (!result || result instanceof Error) throw new Error(`expected a status, got ${String(result)}`);
  return result;
}

/** A promise with its resolve handle, for holding upstream answers until a test releases them. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets jest's fake time run until nothing is scheduled (backoffs, budget waits, held partial calls). */
export async function settled<T>(promise: Promise<T>): Promise<T> {
  await jest.runAllTimersAsync();
  return promise;
}

/** An allowance holding `tokens` lookups, recording what was asked of it; refusals say retry after 700 ms. */
export function recordingAllowance(tokens: number): LookupAllowance & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    take(count) {
      asked.push(count);
      const granted = Math.min(count, tokens);
      tokens -= granted;
      return { granted, retryAfterMs: granted < count ? 700 : 0 };
    },
  };
}
