import { isValidClientId } from '../presence/client-id';
import { MAX_CLIENT_IDS_PER_BATCH_CALL, SessionAction } from '../presence/session-api';
import type { LiveSessions } from './live-sessions';
import { faults } from './openapi-errors';

/**
 * The onsmqtt side of the two presence actions (upstream-api.md, "The two presence actions"):
 * parameter checks and answers, read from the broker's live sessions. Transport and signature are the
 * emulator's business; this module sees decoded parameters only.
 */
export interface ActionContext {
  /** The one instance this emulator serves. */
  instanceId: string;
  sessions: LiveSessions;
  nowMs: number;
  /** BatchQuerySessionByClientIds is served from an internal cache: it answers the state of `nowMs - batchLagMs`. */
  batchLagMs: number;
  random: () => number;
}

export type Params = ReadonlyMap<string, string>;

const LIST_ITEM = /^ClientIdList\.(\d+)$/;

export function isSessionAction(action: string): action is SessionAction {
  return action === SessionAction.Batch || action === SessionAction.Exact;
}

/** The Client IDs a call names, in request order: recorded for every call, rejected ones included. */
export function clientIdsOf(action: string, params: Params): string[] {
  if (action === SessionAction.Exact) return params.has('ClientId') ? [params.get('ClientId')!] : [];
  return listItems(params).map(([, clientId]) => clientId);
}

/** Checks the parameters and answers the action (without RequestId), or throws an `OpenApiFault`. */
export function answerSessionAction(action: SessionAction, params: Params, context: ActionContext): Record<string, unknown> {
  const instanceId = params.get('InstanceId');
  if (!instanceId) throw faults.parameterCheckFailed('InstanceId is mandatory for this action.');
  if (instanceId !== context.instanceId) throw faults.instancePermission();
  switch (action) {
    case SessionAction.Batch:
      return batchQuerySessionByClientIds(params, context);
    case SessionAction.Exact:
      return querySessionByClientId(params, context);
  }
}

function batchQuerySessionByClientIds(params: Params, { sessions, nowMs, batchLagMs, random }: ActionContext): Record<string, unknown> {
  const items = listItems(params);
  if (items.length === 0) throw faults.parameterCheckFailed('ClientIdList is mandatory: ClientIdList.1 … ClientIdList.10.');
  // BatchQuerySessionByClientIds: at most 10 IDs per call.
  if (items.some(([index]) => index > MAX_CLIENT_IDS_PER_BATCH_CALL)) {
    throw faults.parameterCheckFailed(`ClientIdList may hold at most ${MAX_CLIENT_IDS_PER_BATCH_CALL} Client IDs per call.`);
  }
  if (items.some(([index], position) => index !== position + 1)) {
    throw faults.parameterCheckFailed('ClientIdList.N must be numbered from 1 without gaps.');
  }
  for (const [index, clientId] of items) assertClientId(`ClientIdList.${index}`, clientId);

  const asOfMs = nowMs - batchLagMs;
  // Duplicates are answered once; the order of OnlineStatusList is undocumented, so it is shuffled
  // here to keep callers honest: they must match answers by ClientId.
  const unique = shuffle([...new Set(items.map(([, clientId]) => clientId))], random);
  return {
    OnlineStatusList: unique.map((clientId) => ({ ClientId: clientId, OnlineStatus: sessions.wasOnlineAt(clientId, asOfMs) })),
  };
}

function querySessionByClientId(params: Params, { sessions }: ActionContext): Record<string, unknown> {
  const clientId = params.get('ClientId');
  if (clientId === undefined) throw faults.parameterCheckFailed('ClientId is mandatory for this action.');
  assertClientId('ClientId', clientId);
  // QuerySessionByClientId is exact: the live state, no lag.
  return { OnlineStatus: sessions.isOnline(clientId) };
}

/** `ClientIdList.N` parameters as [N, value], sorted by N. */
function listItems(params: Params): Array<[number, string]> {
  const items: Array<[number, string]> = [];
  for (const [name, value] of params) {
    const match = LIST_ITEM.exec(name);
    if (match) items.push([Number(match[1]), value]);
  }
  return items.sort(([a], [b]) => a - b);
}

function assertClientId(parameter: string, clientId: string): void {
  if (!isValidClientId(clientId)) {
    const shown = clientId.length > 80 ? `${clientId.slice(0, 80)}…` : clientId;
    throw faults.parameterCheckFailed(`${parameter} ${JSON.stringify(shown)} is not a valid Client ID (<GroupID>@@@<DeviceID>).`);
  }
}

/** Fisher–Yates, driven by the emulator's `random` so tests can make it deterministic. */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
