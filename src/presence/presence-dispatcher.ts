import { setMaxListeners } from 'node:events';
import type { BudgetGrant, CallBudget } from './budget';
import { CircuitBreaker, CircuitOpenError, type CircuitBreakerOptions } from './circuit-breaker';
import { systemClock, type Clock } from './clock';
import { PresenceError, PresenceErrorCode, UpstreamRejectedError, UpstreamThrottledError, UpstreamUnavailableError, asPresenceError } from './errors';
import { spend, type LookupAllowance } from './fair-share';
import { assertNumberOption } from './options';
import type { CachedPresence, PresenceCacheStore } from './presence-cache';
import { PresenceKeyIds } from './presence-key-map';
import { RetryPolicy, type RetryPolicyOptions } from './retry-policy';
import { MAX_CLIENT_IDS_PER_BATCH_CALL, SessionAction, type BatchSessionAnswer, type SessionApi } from './session-api';
import { NO_OBSERVER, presenceKeyId, type PresenceKey, type PresenceLookup, type PresenceObserver } from './types';
import type { PresenceOrigin, PresenceResult, PresenceStatus } from './types';

export interface PresenceDispatcherOptions {
  api: SessionApi;
  /** BatchQuerySessionByClientIds: 100 calls per second per account. */
  batchBudget: CallBudget;
  /** QuerySessionByClientId: 500 calls per second per account. */
  exactBudget: CallBudget;
  /** Where statuses are kept; without a store nothing is served from cache, fresh or stale. */
  cache?: PresenceCacheStore;
  /** A cached status younger than this answers at once (origin `cache`); 0 disables fresh answers. */
  cacheTtlMs: number;
  /** A cached status younger than this answers, flagged stale, when the upstream fails for its key. */
  staleIfErrorMs: number;
  /** How long a key may wait for budget before failing as UPSTREAM_THROTTLED. */
  budgetWaitMs: number;
  /** Retries of each upstream call (`now` defaults to the dispatcher's clock). */
  retry: RetryPolicyOptions;
  /** One breaker for both actions (`now` defaults to the dispatcher's clock). */
  circuitBreaker?: CircuitBreakerOptions;
  observer?: PresenceObserver;
  now?: Clock;
  /**
   * While a call of fewer than 10 IDs went out less than this long ago for the same instance, the
   * next partial call waits for more IDs (the packing rule below), @default 1000 / batchBudget.limitPerSecond.
   */
  partialBatchIntervalMs?: number;
  /**
   * The longest that spacing grows to while partial calls keep following each other (the packing
   * rule below), @default max(partialBatchIntervalMs, 100): the most a lookup waits for company.
   */
  maxPartialBatchIntervalMs?: number;
}

/**
 * Keys whose id the dispatcher keeps (PresenceKeyIds): as many as the memory cache holds by default,
 * so every key it can answer is covered. The id strings are the cache's own keys, so what this adds
 * is a map entry and a Client ID string per key: about 6 MiB at 100,000 keys, over the 21 MiB the
 * memory cache then holds (measured with 37-character Client IDs).
 */
const KNOWN_KEY_IDS = 100_000;

/** One requested key waiting for its answer, shared by every lookup of that key meanwhile. */
interface PendingKey {
  readonly key: PresenceKey;
  readonly id: string;
  /** Budget waits are bounded from here: a key fails once it cannot be sent by enqueuedAtMs + budgetWaitMs. */
  readonly enqueuedAtMs: number;
  /** The status cached when the key was asked for: the stale answer if the upstream fails. */
  readonly lastKnown: CachedPresence | undefined;
  readonly answer: Promise<PresenceResult>;
  settle(result: PresenceResult): void;
}

/** Keys waiting for one instance (a batch call names one InstanceId), oldest first, and their pacing. */
interface InstanceQueue {
  readonly instanceId: string;
  readonly keys: PendingKey[];
  /** Senders waiting for budget; once granted, each takes up to 10 keys from the head. */
  acquiring: number;
  lastPartialSentAtMs: number;
  /** The spacing of partial calls now: partialBatchIntervalMs, doubled while they follow each other closely. */
  partialIntervalMs: number;
  timer: NodeJS.Timeout | undefined;
  pumpScheduled: boolean;
}

/**
 * The process-wide presence core: ONE instance per process, shared by every request (each request's
 * `RequestPresence` hands it that request's keys). Because it is shared, IDs asked for by different
 * requests at about the same time travel in the same upstream calls, and the account's QPS budget,
 * the cache, the retries and the circuit breaker are respected by the process as a whole.
 *
 * Packing, the rule that decides cost and latency (BatchQuerySessionByClientIds: at most 10 IDs per
 * call, 100 calls per second per account, each call billed):
 *   - A full call of 10 IDs goes as soon as the budget grants one: waiting could not make it cheaper.
 *   - A partial call goes at once if no partial call of the same instance went out in the last
 *     `partialBatchIntervalMs` (an idle service adds no latency). Otherwise it waits, collecting IDs,
 *     until that interval has passed or it fills to 10. Like Nagle's algorithm: a burst of 100
 *     one-ID requests costs about ⌈100/10⌉ calls plus one per interval instead of 100, while one
 *     request of 25 IDs still costs exactly 3 calls, sent together without delay.
 *   - While partial calls follow each other within twice the spacing, the spacing doubles, up to
 *     `maxPartialBatchIntervalMs`; once a partial call comes later than that, it is back to
 *     `partialBatchIntervalMs`. Why: a burst of concurrent requests does not reach the dispatcher
 *     at once but one request at a time, at the pace the server parses and runs them (a few ms
 *     each), so a burst of 100 one-ID requests lasts hundreds of milliseconds, not one interval. A
 *     fixed 10 ms spacing sends it in 30 to 50 calls; the growing one keeps it near 10 to 20, at
 *     the price of up to maxPartialBatchIntervalMs of waiting under continuous traffic.
 *   - A sender takes its IDs when the budget grants, not when it starts waiting: while calls wait
 *     for budget, IDs from every pending request fill them up.
 */
export class PresenceDispatcher implements PresenceLookup {
  private readonly api: SessionApi;
  private readonly batchBudget: CallBudget;
  private readonly exactBudget: CallBudget;
  private readonly cache: PresenceCacheStore | undefined;
  private readonly cacheTtlMs: number;
  private readonly staleIfErrorMs: number;
  /** How long the store keeps an entry: fresh answers need cacheTtlMs, stale ones staleIfErrorMs. */
  private readonly retainMs: number;
  private readonly budgetWaitMs: number;
  private readonly partialBatchIntervalMs: number;
  private readonly maxPartialBatchIntervalMs: number;
  private readonly retry: RetryPolicy;
  private readonly breaker: CircuitBreaker;
  private readonly observer: PresenceObserver;
  private readonly now: Clock;
  /** Every key asked for and not yet answered, queued or in flight: the cross-request de-duplication. */
  private readonly pending = new Map<string, PendingKey>();
  private readonly queues = new Map<string, InstanceQueue>();
  /** Each key's `presenceKeyId`, kept for the keys asked lately: the id strings the cache is keyed by. */
  private readonly keyIds = new PresenceKeyIds(KNOWN_KEY_IDS);
  /** Keys answered by `cachedNow` and not yet reported: reported once per tick, not once per key. */
  private cachedNowAnswers = 0;
  /** Aborted by `close()`: cancels budget waits and retry backoffs, so no timer outlives the service. */
  private readonly closing = new AbortController();

  constructor(options: PresenceDispatcherOptions) {
    const owner = 'PresenceDispatcher';
    if (typeof options.api?.batchQuerySessions !== 'function' || typeof options.api.querySession !== 'function') {
      throw new TypeError(`${owner}: api must implement SessionApi (batchQuerySessions and querySession)`);
    }
    if (!options.batchBudget || !options.exactBudget) throw new TypeError(`${owner}: batchBudget and exactBudget are required`);
    assertNumberOption(owner, 'cacheTtlMs', options.cacheTtlMs);
    assertNumberOption(owner, 'staleIfErrorMs', options.staleIfErrorMs);
    assertNumberOption(owner, 'budgetWaitMs', options.budgetWaitMs);
    const partialBatchIntervalMs = options.partialBatchIntervalMs ?? 1000 / options.batchBudget.limitPerSecond;
    assertNumberOption(owner, 'partialBatchIntervalMs', partialBatchIntervalMs);
    const maxPartialBatchIntervalMs = options.maxPartialBatchIntervalMs ?? Math.max(partialBatchIntervalMs, 100);
    assertNumberOption(owner, 'maxPartialBatchIntervalMs', maxPartialBatchIntervalMs, { min: partialBatchIntervalMs });
    this.api = options.api;
    this.batchBudget = options.batchBudget;
    this.exactBudget = options.exactBudget;
    this.cache = options.cache;
    this.cacheTtlMs = options.cacheTtlMs;
    this.staleIfErrorMs = options.staleIfErrorMs;
    this.retainMs = Math.max(options.cacheTtlMs, options.staleIfErrorMs);
    this.budgetWaitMs = options.budgetWaitMs;
    this.partialBatchIntervalMs = partialBatchIntervalMs;
    this.maxPartialBatchIntervalMs = maxPartialBatchIntervalMs;
    this.now = options.now ?? systemClock;
    this.retry = new RetryPolicy({ now: this.now, ...options.retry });
    this.breaker = new CircuitBreaker({ now: this.now, ...options.circuitBreaker });
    this.observer = options.observer ?? NO_OBSERVER;
    // Every budget wait and backoff listens on this signal: as many as there are calls waiting, so
    // Node's default warning at 10 listeners would be noise, not a leak.
    setMaxListeners(0, this.closing.signal);
  }

  /**
   * Answers what the cache holds fresh; a key whose lookup is already under way (for another request)
   * shares it; the rest joins the queues. Only those last keys spend the caller's allowance: they are
   * what costs the account's budget, and neither a fresh cached answer nor a shared lookup costs it
   * anything (see FairShare). Otherwise every request of a busy caller arriving while a popular
   * status is being refreshed would be charged for the one call made for all of them.
   */
  async lookup(keys: readonly PresenceKey[], allowance?: LookupAllowance): Promise<PresenceResult[]> {
    const ids: string[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) ids[i] = this.keyIds.idOf(keys[i]);
    const cached = await this.readCache(ids);
    const now = this.now();
    const answers: Array<PresenceResult | Promise<PresenceResult>> = new Array(keys.length);
    let shared = 0;
    let newLookups = 0;
    for (let i = 0; i < keys.length; i++) {
      const entry = cached[i];
      if (entry && now - entry.checkedAtMs < this.cacheTtlMs) {
        answers[i] = statusOf(entry, 'cache');
        continue;
      }
      // After close, nothing is shared: lookups then fail at once (`join`).
      const underWay = this.closing.signal.aborted ? undefined : this.pending.get(ids[i]);
      if (underWay !== undefined) {
        answers[i] = underWay.answer;
        shared++;
      } else {
        newLookups++;
      }
    }
    if (newLookups + shared === 0) {
      // All answered from the cache, the common case under load: no promise per key to wait for, and
      // one count to report (what `reported` would find).
      if (answers.length > 0) this.observer.lookupsAnswered('cache', answers.length);
      return answers as PresenceResult[];
    }
    // The first `granted` new lookups, in the order asked, go upstream; the rest fail over the share.
    const { granted, overShare } = spend(allowance, newLookups);
    let joined = 0;
    for (let i = 0; i < keys.length; i++) {
      if (answers[i] !== undefined) continue;
      answers[i] = joined++ < granted ? this.join(keys[i], ids[i], cached[i], now) : (overShare as Error);
    }
    return this.reported(await Promise.all(answers));
  }

  /**
   * A fresh status from an in-process cache, at once: what lets an all-cached request skip a promise
   * and a DataLoader round per device (BENCHMARKS.md, performance pass). Undefined for a shared store
   * (it cannot answer without waiting), an entry missing or older than cacheTtlMs: `lookup` answers those.
   */
  cachedNow(key: PresenceKey): PresenceStatus | undefined {
    if (!this.cache?.getNow || this.cacheTtlMs === 0) return undefined;
    const entry = this.cache.getNow(this.keyIds.idOf(key));
    if (!entry || this.now() - entry.checkedAtMs >= this.cacheTtlMs) return undefined;
    if (this.cachedNowAnswers++ === 0) void Promise.resolve().then(this.reportCachedNow);
    return statusOf(entry, 'cache');
  }

  private readonly reportCachedNow = () => {
    this.observer.lookupsAnswered('cache', this.cachedNowAnswers);
    this.cachedNowAnswers = 0;
  };

  /**
   * One QuerySessionByClientId per key, in parallel. Never reads the cache: whoever asks for exact
   * wants the upstream's word now, not an earlier one. But it writes the cache: an exact answer is
   * newer and truer than anything a later cached lookup could find there. Not de-duplicated across
   * requests either: sharing a call already in flight would answer with a status read before this ask.
   */
  async lookupExact(keys: readonly PresenceKey[], allowance?: LookupAllowance): Promise<PresenceResult[]> {
    const { granted, overShare } = spend(allowance, keys.length);
    return this.reported(await Promise.all(keys.map((key, i) => (i < granted ? this.exactOne(key) : (overShare as Error)))));
  }

  /**
   * For shutdown: fails every key still waiting for a call (UPSTREAM_UNAVAILABLE, or its stale status
   * where allowed), cancels budget waits and retry backoffs and clears timers. Calls already sent
   * settle their keys when they return; lookups after `close` fail at once.
   */
  close(): void {
    if (this.closing.signal.aborted) return;
    const error = new UpstreamUnavailableError('The presence service is shutting down');
    this.closing.abort(error);
    for (const queue of this.queues.values()) {
      clearTimeout(queue.timer);
      this.fail(queue.keys.splice(0), error);
    }
    this.queues.clear();
  }

  /** Adds a key with no lookup under way (`lookup` shares those) to its instance's queue. */
  private join(key: PresenceKey, id: string, lastKnown: CachedPresence | undefined, now: number): Promise<PresenceResult> {
    if (this.closing.signal.aborted) return Promise.resolve(this.closing.signal.reason as Error);
    let resolve!: (result: PresenceResult) => void;
    const answer = new Promise<PresenceResult>((r) => (resolve = r));
    const pendingKey: PendingKey = {
      key,
      id,
      enqueuedAtMs: now,
      lastKnown,
      answer,
      settle: (result) => {
        if (this.pending.get(id) === pendingKey) this.pending.delete(id);
        resolve(result);
      },
    };
    this.pending.set(id, pendingKey);
    const queue = this.queueFor(key.instanceId);
    queue.keys.push(pendingKey);
    // Why a promise job rather than pumping now: the loaders of requests that arrived together
    // dispatch one after another in the same tick, and when this job runs they have all enqueued, so
    // they share calls. It adds no timer: an idle service answers one round trip after the ask.
    if (!queue.pumpScheduled) {
      queue.pumpScheduled = true;
      void Promise.resolve().then(() => {
        queue.pumpScheduled = false;
        this.pump(queue);
      });
    }
    return answer;
  }

  /** Starts as many senders as the packing rule (class comment) wants now; times the next partial call. */
  private pump(queue: InstanceQueue): void {
    if (this.closing.signal.aborted) return;
    const waiting = queue.keys.length;
    const fullCalls = Math.floor(waiting / MAX_CLIENT_IDS_PER_BATCH_CALL);
    const partialWaitMs =
      waiting % MAX_CLIENT_IDS_PER_BATCH_CALL === 0 ? 0 : queue.lastPartialSentAtMs + queue.partialIntervalMs - this.now();
    const wanted = partialWaitMs > 0 ? fullCalls : Math.ceil(waiting / MAX_CLIENT_IDS_PER_BATCH_CALL);
    while (queue.acquiring < wanted) void this.sendNext(queue);
    if (partialWaitMs > 0 && queue.acquiring <= fullCalls && !queue.timer) {
      queue.timer = setTimeout(() => {
        queue.timer = undefined;
        this.pump(queue);
      }, partialWaitMs);
    }
  }

  /** One sender: waits for a grant, then takes up to 10 keys from the head of the queue and calls. */
  private async sendNext(queue: InstanceQueue): Promise<void> {
    queue.acquiring++;
    let grant: BudgetGrant;
    try {
      // The head is the oldest key, so its deadline is the earliest one in the queue.
      grant = await this.admit(this.batchBudget, queue.keys[0].enqueuedAtMs + this.budgetWaitMs);
    } catch (error) {
      queue.acquiring--;
      this.failUnsendable(queue, error);
      this.pump(queue);
      return;
    }
    queue.acquiring--;
    const chunk = queue.keys.splice(0, MAX_CLIENT_IDS_PER_BATCH_CALL);
    // Another sender (or a failure) emptied the queue during the wait: the grant goes unused.
    if (chunk.length === 0) return void grant.settle();
    if (chunk.length < MAX_CLIENT_IDS_PER_BATCH_CALL) this.partialSent(queue);
    if (queue.keys.length > 0) this.pump(queue);
    await this.sendBatch(queue.instanceId, chunk, grant);
  }

  /** Times the next partial call by the packing rule (class comment): spacing doubled while they follow closely. */
  private partialSent(queue: InstanceQueue): void {
    const now = this.now();
    const close = now - queue.lastPartialSentAtMs < 2 * queue.partialIntervalMs;
    queue.partialIntervalMs = close ? Math.min(2 * queue.partialIntervalMs, this.maxPartialBatchIntervalMs) : this.partialBatchIntervalMs;
    queue.lastPartialSentAtMs = now;
  }

  /**
   * A sender could not get a grant: the circuit is open (every waiting key fails fast), the service
   * is closing (`close` already failed them), or the budget has no room before the head's deadline.
   * Then every key whose deadline comes before the next possible grant fails; later keys stay queued.
   */
  private failUnsendable(queue: InstanceQueue, error: unknown): void {
    let doomed = queue.keys.length;
    if (error instanceof UpstreamThrottledError) {
      const nextGrantMs = this.now() + error.retryAfterMs;
      doomed = 0;
      while (doomed < queue.keys.length && queue.keys[doomed].enqueuedAtMs + this.budgetWaitMs < nextGrantMs) doomed++;
    }
    this.fail(queue.keys.splice(0, doomed), error);
  }

  /**
   * One batch call with retries (its first attempt on `heldGrant` when the sender holds one); answers
   * its keys, or fails them (stale where allowed), or splits it.
   */
  private async sendBatch(instanceId: string, chunk: PendingKey[], heldGrant?: BudgetGrant): Promise<void> {
    const clientIds = chunk.map((pendingKey) => pendingKey.key.clientId);
    let answer: BatchSessionAnswer;
    // When the answering attempt was sent: what its statuses are stamped with (CachedPresence).
    let checkedAtMs = 0;
    try {
      answer = await this.withRetries(this.batchBudget, heldGrant, () =>
        this.call(SessionAction.Batch, this.batchBudget, () => {
          this.observer.batchSize(clientIds.length);
          checkedAtMs = this.now();
          return this.api.batchQuerySessions(instanceId, clientIds);
        }),
      );
    } catch (error) {
      if (chunk.length > 1 && isBadParameter(error)) return this.split(instanceId, chunk);
      return this.fail(chunk, error);
    }
    const fetched: Array<[string, CachedPresence]> = [];
    for (const pendingKey of chunk) {
      // Matched by ClientId: the order of OnlineStatusList is not documented (upstream-api.md).
      const online = answer.statuses.get(pendingKey.key.clientId);
      if (online === undefined) {
        // Absent is not offline: whether unknown IDs come back `false` or not at all is undocumented.
        const detail = { code: 'MissingFromAnswer', requestId: answer.requestId };
        this.fail([pendingKey], new UpstreamRejectedError('The upstream did not answer for this Client ID', detail));
        continue;
      }
      fetched.push([pendingKey.id, { online, checkedAtMs }]);
      pendingKey.settle(statusOf({ online, checkedAtMs }, 'upstream'));
    }
    this.remember(fetched);
  }

  /**
   * ParameterCheckFailed / InvalidParameter.*: a bad ID that local rules did not foresee, and the
   * upstream does not say which. Halving until each bad ID stands alone lets the good IDs answer.
   * Bound for a 10-ID chunk: one bad ID costs 2 calls per level over ⌈log2 10⌉ = 4 levels, 8 extra
   * calls; at worst (every ID bad, or the whole call was never about an ID) the halving is a full
   * binary tree of 2·10 − 2 = 18 extra calls. Each takes budget like any other call.
   */
  private async split(instanceId: string, chunk: PendingKey[]): Promise<void> {
    const middle = Math.ceil(chunk.length / 2);
    await Promise.all([this.sendBatch(instanceId, chunk.slice(0, middle)), this.sendBatch(instanceId, chunk.slice(middle))]);
  }

  private async exactOne(key: PresenceKey): Promise<PresenceResult> {
    if (this.closing.signal.aborted) return this.closing.signal.reason as Error;
    let checkedAtMs = 0;
    try {
      const answer = await this.withRetries(this.exactBudget, undefined, () =>
        this.call(SessionAction.Exact, this.exactBudget, () => {
          checkedAtMs = this.now();
          return this.api.querySession(key.instanceId, key.clientId);
        }),
      );
      const entry = { online: answer.online, checkedAtMs };
      this.remember([[presenceKeyId(key), entry]]);
      return statusOf(entry, 'upstream');
    } catch (error) {
      return asPresenceError(error);
    }
  }

  /**
   * Runs `call` under the retry policy, which retries until UPSTREAM_RETRY_TOTAL_MS has passed since
   * the first attempt (retry-policy.ts). Every attempt takes budget ("each retry again takes budget"),
   * except a first attempt whose grant the caller already holds. Any attempt waits for budget at most
   * budgetWaitMs, as a lookup's first call does, and a retry never past the retry policy's deadline:
   * a retry that would go later fails with UPSTREAM_THROTTLED. Each grant is settled when its attempt
   * ends, so the budget counts the call until the upstream has surely seen it.
   */
  private async withRetries<T>(budget: CallBudget, heldGrant: BudgetGrant | undefined, call: () => Promise<T>): Promise<T> {
    // The upstream's own last answer: when the circuit opens during the retries (five failed calls
    // may well be this lookup's own), the caller gets it, RequestId included, rather than the
    // circuit's refusal, which says nothing Alibaba support could look up.
    let lastAnswered: PresenceError | undefined;
    try {
      return await this.retry.execute(async ({ attempt, deadlineMs }) => {
        const waitEndsMs = this.now() + this.budgetWaitMs;
        const grant = attempt === 0 && heldGrant ? heldGrant : await this.admit(budget, attempt === 0 ? waitEndsMs : Math.min(deadlineMs, waitEndsMs));
        try {
          return await call();
        } catch (error) {
          if (error instanceof PresenceError && error.upstream?.requestId) lastAnswered = error;
          throw error;
        } finally {
          void grant.settle();
        }
      }, this.closing.signal);
    } catch (error) {
      throw error instanceof CircuitOpenError && lastAnswered ? lastAnswered : error;
    }
  }

  /**
   * Nothing new is sent after close: a split or a retry begun by a call that was in flight fails
   * here, before the budget store is asked. Then the breaker: a call it would refuse should cost
   * neither budget nor a wait for it.
   */
  private async admit(budget: CallBudget, deadlineMs: number): Promise<BudgetGrant> {
    this.closing.signal.throwIfAborted();
    this.breaker.check();
    return budget.acquire(deadlineMs, this.closing.signal);
  }

  /**
   * One upstream HTTP call: through the breaker, reported to the observer by outcome. A throttled
   * answer (SystemOverFlow, Throttling.*) slows the action's budget for every caller of the account
   * (CallBudget.throttled) before the retry policy sees it, so that its retry already waits for the
   * slower budget.
   */
  private call<T>(action: SessionAction, budget: CallBudget, invoke: () => Promise<T>): Promise<T> {
    return this.breaker.run(async () => {
      try {
        const result = await invoke();
        this.observer.upstreamCall(action, 'ok');
        return result;
      } catch (thrown) {
        const error = asPresenceError(thrown);
        this.observer.upstreamCall(action, error.upstream?.code ?? 'network');
        if (error instanceof UpstreamThrottledError) await budget.throttled();
        throw error;
      }
    });
  }

  /**
   * Fails keys (a failure is data, never a rejected lookup, and never cached). Where the upstream is
   * the problem (throttled, unavailable, circuit open) a recent enough cached status answers instead,
   * flagged stale. Not for AUTH_FAILED or REJECTED: those need an operator's or a caller's fix, and an
   * old status would hide them.
   */
  private fail(keys: PendingKey[], thrown: unknown): void {
    const error = asPresenceError(thrown);
    const upstreamDown = error.code === PresenceErrorCode.UpstreamThrottled || error.code === PresenceErrorCode.UpstreamUnavailable;
    const now = this.now();
    for (const { lastKnown, settle } of keys) {
      const servable = upstreamDown && lastKnown !== undefined && now - lastKnown.checkedAtMs < this.staleIfErrorMs;
      settle(servable ? statusOf(lastKnown, 'stale') : error);
    }
  }

  /** A cache outage degrades to upstream calls, never to failed lookups. */
  private async readCache(ids: string[]): Promise<Array<CachedPresence | undefined>> {
    if (!this.cache || this.retainMs === 0) return [];
    return this.cache.getMany(ids).catch(() => []);
  }

  /** Not awaited: a slow or failing shared cache must not delay or fail answers already in hand. */
  private remember(entries: Array<[string, CachedPresence]>): void {
    if (!this.cache || this.retainMs === 0 || entries.length === 0) return;
    this.cache.setMany(entries, this.retainMs).catch(() => undefined);
  }

  private reported(results: PresenceResult[]): PresenceResult[] {
    const counts = new Map<PresenceOrigin | 'error', number>();
    for (const result of results) {
      const kind = result instanceof Error ? 'error' : result.origin;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    for (const [kind, count] of counts) this.observer.lookupsAnswered(kind, count);
    return results;
  }

  private queueFor(instanceId: string): InstanceQueue {
    const existing = this.queues.get(instanceId);
    if (existing) return existing;
    // Instance IDs come from callers, so drop the queues of idle instances as new ones appear. A queue
    // stays while its partial-call spacing could still apply or grow, or the next lone ID would skip it.
    const now = this.now();
    for (const [id, queue] of this.queues) {
      const idle = queue.keys.length === 0 && queue.acquiring === 0 && !queue.timer && !queue.pumpScheduled;
      if (idle && now - queue.lastPartialSentAtMs >= 2 * queue.partialIntervalMs) this.queues.delete(id);
    }
    const queue: InstanceQueue = {
      instanceId,
      keys: [],
      acquiring: 0,
      lastPartialSentAtMs: -Infinity,
      partialIntervalMs: this.partialBatchIntervalMs,
      timer: undefined,
      pumpScheduled: false,
    };
    this.queues.set(instanceId, queue);
    return queue;
  }
}

function statusOf(entry: CachedPresence, origin: PresenceOrigin): PresenceStatus {
  return { online: entry.online, checkedAtMs: entry.checkedAtMs, stale: origin === 'stale', origin };
}

/** A 400 about a parameter: possibly one bad Client ID in the call (upstream-api.md, error codes). */
function isBadParameter(error: unknown): boolean {
  const code = error instanceof UpstreamRejectedError ? error.upstream?.code : undefined;
  return code === 'ParameterCheckFailed' || (code?.startsWith('InvalidParameter') ?? false);
}
