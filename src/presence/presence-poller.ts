import type { PresenceConfig, SubscriptionConfig, UpstreamConfig } from '../config';
import type { BudgetGrant, BudgetStore, CallBudget } from './budget';
import { batchShareBudgets, BudgetShare, chunkedByInstance, type BatchChunk } from './budget-share';
import { FairRounds } from './fair-rounds';
import { systemClock, type Clock } from './clock';
import { UpstreamThrottledError, UpstreamUnavailableError, asPresenceError, type PresenceError } from './errors';
import { assertNumberOption } from './options';
import { WatcherRegistry, type PresenceListener, type PresenceWatch } from './presence-watch';
import { SessionAction, type SessionApi } from './session-api';
import { NO_OBSERVER, presenceKeyId, type PresenceKey, type PresenceObserver } from './types';

export interface PresencePollerOptions {
  api: SessionApi;
  /**
   * The account's BatchQuerySessionByClientIds budget, on the same store and action as the
   * dispatcher's, so polls and queries together stay within UPSTREAM_BATCH_QPS.
   */
  accountBudget: CallBudget;
  /** The poller's own cap: its share of the account budget (SUBSCRIPTION_BUDGET_SHARE). */
  shareBudget: CallBudget;
  /** How often every watched key is asked about (SUBSCRIPTION_POLL_INTERVAL_MS). */
  intervalMs: number;
  observer?: PresenceObserver;
  /** A poll call failed: its keys keep their last status and are asked again next interval. */
  onError?: (error: PresenceError, clientIds: number) => void;
  now?: Clock;
}

/**
 * Presence changes from an upstream that cannot push them (Alibaba Cloud): ONE poller per process,
 * shared by every subscription. Every interval it asks about the union of the watched keys, 10 per
 * BatchQuerySessionByClientIds call, and tells watchers only what changed: a thousand subscribers
 * of the same ten devices cost one call per interval, as one subscriber does.
 *
 * Cost is bounded twice. Each call takes a grant from the poller's share (say 20 of the account's
 * 100 calls per second) and then from the account budget itself, without waiting for either: when
 * there is no room, the rest of the round waits for the next interval, so queries, which do wait
 * for budget, are never starved by polls. When the union needs more calls than the share allows,
 * successive rounds start where the last one stopped (round robin), so every key is still asked,
 * just less often than every interval.
 *
 * Rounds are shared between owners (the callers watching), not between keys: a round takes each
 * owner's next key in turn, so the first calls of a round hold every owner's first keys, and a
 * caller watching thousands of devices makes only its own devices wait longer. Taken in key union
 * order, one key's 40,000 made-up IDs left another caller's device unasked for over a minute.
 *
 * A key's first status is asked for at once (a catch-up call, shared by every watch that arrives
 * in the same tick) rather than at the next interval, so a new subscriber does not wait for it.
 * No retries: a failed call is simply made again next interval, and the keys keep their last status.
 */
export class PresencePoller implements PresenceWatch {
  private readonly api: SessionApi;
  private readonly share: BudgetShare;
  private readonly intervalMs: number;
  private readonly observer: PresenceObserver;
  private readonly onError: (error: PresenceError, clientIds: number) => void;
  private readonly now: Clock;
  private readonly registry = new WatcherRegistry();
  /** The last status seen of each watched key; absent until its first answer. */
  private readonly known = new Map<string, { online: boolean; checkedAtMs: number }>();
  /** Watched keys still without a status, for the next catch-up call. */
  private readonly unknown = new Map<string, PresenceKey>();
  private roundTimer: NodeJS.Timeout | undefined;
  private catchUpTimer: NodeJS.Timeout | undefined;
  private roundRunning = false;
  /** Who watches which keys, and the order a round asks about them: fair between owners. */
  private readonly rounds = new FairRounds();
  private closed = false;

  constructor(options: PresencePollerOptions) {
    const owner = 'PresencePoller';
    if (typeof options.api?.batchQuerySessions !== 'function') throw new TypeError(`${owner}: api must implement SessionApi`);
    if (!options.accountBudget || !options.shareBudget) throw new TypeError(`${owner}: accountBudget and shareBudget are required`);
    assertNumberOption(owner, 'intervalMs', options.intervalMs, { min: 1 });
    this.api = options.api;
    this.intervalMs = options.intervalMs;
    this.observer = options.observer ?? NO_OBSERVER;
    this.onError = options.onError ?? (() => undefined);
    this.now = options.now ?? systemClock;
    this.share = new BudgetShare(options.accountBudget, options.shareBudget, { now: this.now, onError: (error) => this.onError(error, 0) });
  }

  watch(keys: readonly PresenceKey[], listener: PresenceListener, owner = ''): () => void {
    if (this.closed) throw new UpstreamUnavailableError('The presence service is shutting down');
    const unown = this.rounds.own(owner, keys);
    // Keys this listener has heard about, so it gets exactly one first status per key.
    const told = new Set<string>();
    const unwatch = this.registry.add(
      keys,
      (change) => {
        told.add(presenceKeyId(change.key));
        listener(change);
      },
      {
        onFirst: (key, id) => this.unknown.set(id, key),
        onLast: (id) => {
          this.known.delete(id);
          this.unknown.delete(id);
        },
      },
    );
    // Keys another watcher already has a status for start this listener at once: in a microtask, so
    // the caller has its unwatch function first, and reading the status then, so that a change
    // delivered meanwhile is never followed by an older first status.
    let active = true;
    queueMicrotask(() => {
      for (const key of keys) {
        const id = presenceKeyId(key);
        const seen = this.known.get(id);
        if (!active || !seen || told.has(id)) continue;
        told.add(id);
        listener({ key, online: seen.online, at: new Date(seen.checkedAtMs), initial: true, origin: 'upstream' });
      }
    });
    if (this.unknown.size > 0 && !this.catchUpTimer) this.catchUpTimer = setTimeout(() => void this.catchUp(), 0);
    this.scheduleRound(this.intervalMs);
    return () => {
      if (!active) return;
      active = false;
      unwatch();
      unown();
    };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.roundTimer);
    clearTimeout(this.catchUpTimer);
    this.registry.clear();
    this.known.clear();
    this.unknown.clear();
    this.rounds.clear();
  }

  private scheduleRound(delayMs: number): void {
    if (this.closed || this.roundTimer || this.roundRunning || this.registry.size === 0) return;
    this.roundTimer = setTimeout(() => void this.round(), delayMs);
  }

  /** One interval's poll of the whole union; the next round is timed from this one's start. */
  private async round(): Promise<void> {
    this.roundTimer = undefined;
    const startedAtMs = this.now();
    const { chunks, owned } = this.rounds.next();
    if (chunks.length === 0) return;
    this.roundRunning = true;
    try {
      const sent = await this.poll(chunks);
      this.rounds.sent(owned, chunks.slice(0, sent));
    } finally {
      this.roundRunning = false;
    }
    this.scheduleRound(Math.max(0, startedAtMs + this.intervalMs - this.now()));
  }

  private async catchUp(): Promise<void> {
    this.catchUpTimer = undefined;
    const keys = [...this.unknown.values()];
    this.unknown.clear();
    // Keys the budget leaves out stay without a status until a regular round asks about them.
    await this.poll(chunkedByInstance(keys));
  }

  /** Sends the chunks the budgets admit now, in order; resolves with how many were sent. */
  private async poll(chunks: BatchChunk[]): Promise<number> {
    const admitted: Array<{ chunk: BatchChunk; grants: BudgetGrant[] }> = [];
    for (const chunk of chunks) {
      const grants = this.closed ? undefined : await this.share.tryAdmit();
      if (!grants) break;
      admitted.push({ chunk, grants });
    }
    await Promise.all(
      admitted.map(async ({ chunk, grants }) => {
        try {
          await this.ask(chunk);
        } finally {
          // The call has ended: from now on it counts one window, like every call (budget.ts).
          for (const grant of grants) void grant.settle();
        }
      }),
    );
    return admitted.length;
  }

  private async ask(chunk: BatchChunk): Promise<void> {
    const clientIds = chunk.keys.map((key) => key.clientId);
    try {
      this.observer.batchSize(clientIds.length);
      const answer = await this.api.batchQuerySessions(chunk.instanceId, clientIds);
      this.observer.upstreamCall(SessionAction.Batch, 'ok');
      this.observer.pollerCall('ok');
      const checkedAtMs = this.now();
      for (const key of chunk.keys) {
        // Matched by ClientId (the order of OnlineStatusList is not documented); an ID left out of
        // the answer keeps its last status rather than being taken for offline.
        const online = answer.statuses.get(key.clientId);
        if (online !== undefined) this.record(key, online, checkedAtMs);
      }
    } catch (thrown) {
      const error = asPresenceError(thrown);
      const outcome = error.upstream?.code ?? 'network';
      this.observer.upstreamCall(SessionAction.Batch, outcome);
      this.observer.pollerCall(outcome);
      if (error instanceof UpstreamThrottledError && error.upstream) this.share.throttled();
      if (!this.closed) this.onError(error, clientIds.length);
    }
  }

  /** Tells watchers a key's first status, or a change of it; an unchanged status is not news. */
  private record(key: PresenceKey, online: boolean, checkedAtMs: number): void {
    const id = presenceKeyId(key);
    if (this.closed || !this.registry.isWatched(id)) return;
    const previous = this.known.get(id);
    this.known.set(id, { online, checkedAtMs });
    this.unknown.delete(id);
    if (previous?.online === online) return;
    this.registry.notify({ key, online, at: new Date(checkedAtMs), initial: previous === undefined, origin: 'upstream' });
  }
}

/**
 * The poller from the validated configuration. `budgetStore` must be the store the dispatcher's
 * budget uses (Redis when shared), so that the account budget counts polls and queries together.
 */
export function createPresencePoller(
  config: { presence: PresenceConfig; subscriptions: SubscriptionConfig; upstream: UpstreamConfig },
  dependencies: { api: SessionApi; budgetStore: BudgetStore; observer?: PresenceObserver; onError?: PresencePollerOptions['onError'] },
): PresencePoller {
  return new PresencePoller({
    api: dependencies.api,
    ...batchShareBudgets(dependencies.budgetStore, {
      name: 'subscriptions',
      batchQps: config.presence.batchQps,
      share: config.subscriptions.budgetShare,
      // The longest a call may last, as the dispatcher's budget has it (presence-core.ts): a grant
      // counts that long unless its call ends sooner.
      maxCallMs: config.upstream.connectTimeoutMs + config.upstream.readTimeoutMs,
      slowdownMs: config.presence.throttleSlowdownMs,
    }),
    intervalMs: config.subscriptions.pollIntervalMs,
    observer: dependencies.observer,
    onError: dependencies.onError,
  });
}
