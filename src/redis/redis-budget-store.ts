import { randomUUID } from 'node:crypto';
import type { BudgetDecision, BudgetStore } from '../presence/budget';
import type { BudgetSlowdown } from '../presence/budget-slowdown';
import type { RedisConnection } from './redis-client';

/**
 * The account-wide call budget shared by every replica: a sliding log per action in one sorted set,
 * checked and updated by one Lua script so that no two replicas can both take the last grant of a
 * window. Redis's own clock (TIME) is used, never a replica's, so replicas whose clocks disagree
 * still count the same window.
 *
 * Each member is one grant; its score is the latest time its call may reach the upstream (budget.ts,
 * BudgetStore): the grant time plus `pendingMs` until the replica settles it, then the settle time.
 * Microsecond scores: several grants per millisecond are normal under load.
 *
 * A throttled answer (`throttled`) is one more key per action, `{<log key>}:throttled`, holding when
 * the upstream last throttled (Redis's clock, µs): ACQUIRE reads it and lowers the limit as
 * `slowedLimit` does (budget-slowdown.ts), so every replica slows down together.
 *
 * On a Redis Cluster a script's keys must share one slot. The log key keeps its name (a renamed key
 * would split the budget in two while old and new replicas run side by side), and the throttle key
 * takes the log key as its hash tag (`sameSlotKey`), so both hash to the log key's slot whatever
 * REDIS_KEY_PREFIX is, and the scripts run on that slot's master. A master's failover may lose the
 * grants it had not yet replicated (replication is asynchronous), but its replica takes over only
 * after cluster-node-timeout (default 15 s): by then those grants have left the window, unless
 * their calls are still running (a call is bounded by `pendingMs`), and the replicas that granted
 * them hold back meanwhile (FailoverBudgetStore).
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2]) * 1000
local pending = tonumber(ARGV[3]) * 1000
local share = tonumber(ARGV[5])
local slowdown = tonumber(ARGV[6]) * 1000
local throttledAt = slowdown > 0 and redis.call('GET', KEYS[2])
if throttledAt then
  local since = math.max(0, now - tonumber(throttledAt))
  if since < slowdown then
    limit = math.max(1, math.floor(limit * (share + (1 - share) * since / slowdown)))
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now + pending, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) + tonumber(ARGV[3])))
  return {1, 0}
end
local first = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return {0, math.min(tonumber(first[2]), now) + window - now}
`;

/** The call has ended: it counts one more window from now (re-added if it had already left). */
const SETTLE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])))
end
return 1
`;

/** The upstream throttled now: the slowdown starts again; the key goes once it is over. */
const THROTTLED = `
local t = redis.call('TIME')
redis.call('SET', KEYS[1], string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2])), 'PX', math.ceil(tonumber(ARGV[1])))
return 1
`;

const ACQUIRE_COMMAND = 'presenceGraphBudgetAcquire';
const SETTLE_COMMAND = 'presenceGraphBudgetSettle';
const THROTTLED_COMMAND = 'presenceGraphBudgetThrottled';

type WithBudgetCommands = RedisConnection & {
  [ACQUIRE_COMMAND](
    key: string,
    throttledKey: string,
    limit: number,
    windowMs: number,
    pendingMs: number,
    member: string,
    share: number,
    slowdownMs: number,
  ): Promise<[number, number]>;
  [SETTLE_COMMAND](key: string, member: string, windowMs: number): Promise<number>;
  [THROTTLED_COMMAND](throttledKey: string, slowdownMs: number): Promise<number>;
};

/**
 * `key` followed by `suffix`, in `key`'s Redis Cluster slot. A key hashes on its hash tag (the text
 * between its first `{` and the next `}`, when not empty), else whole: so a key with a tag keeps it,
 * and a key without one becomes the new key's tag. A `}` outside a tag would make that tag another
 * text, so such a key is refused.
 */
export function sameSlotKey(key: string, suffix: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  if (close > open + 1) return key + suffix;
  if (key.includes('}')) throw new TypeError(`RedisBudgetStore: keyPrefix must not hold a "}" outside a {hash tag}; got ${JSON.stringify(key)}`);
  return `{${key}}${suffix}`;
}

export class RedisBudgetStore implements BudgetStore {
  private readonly redis: WithBudgetCommands;

  constructor(
    redis: RedisConnection,
    private readonly keyPrefix = 'presence-graph:budget:',
  ) {
    // defineCommand sends EVALSHA and loads the script only when Redis does not have it yet.
    sameSlotKey(keyPrefix, ''); // a prefix no key can be made from fails here, not on the first call
    redis.defineCommand(ACQUIRE_COMMAND, { numberOfKeys: 2, lua: ACQUIRE });
    redis.defineCommand(SETTLE_COMMAND, { numberOfKeys: 1, lua: SETTLE });
    redis.defineCommand(THROTTLED_COMMAND, { numberOfKeys: 1, lua: THROTTLED });
    this.redis = redis as WithBudgetCommands;
  }

  async throttled(action: string, slowdownMs: number): Promise<void> {
    await this.redis[THROTTLED_COMMAND](sameSlotKey(this.keyPrefix + action, ':throttled'), slowdownMs);
  }

  async tryAcquire(action: string, limit: number, windowMs: number, pendingMs: number, slowdown?: BudgetSlowdown): Promise<BudgetDecision> {
    const key = this.keyPrefix + action;
    const member = randomUUID();
    const throttledKey = sameSlotKey(key, ':throttled');
    const [share, slowdownMs] = slowdown ? [slowdown.share, slowdown.durationMs] : [1, 0];
    const [granted, waitMicros] = await this.redis[ACQUIRE_COMMAND](key, throttledKey, limit, windowMs, pendingMs, member, share, slowdownMs);
    if (granted !== 1) return { granted: false, retryAfterMs: Math.max(1, Math.ceil(waitMicros / 1000)) };
    let settling: Promise<void> | undefined;
    // A settle that fails (Redis gone) leaves the grant counted until grant + pendingMs + window.
    const settle = () => (settling ??= this.redis[SETTLE_COMMAND](key, member, windowMs).then(() => undefined, () => undefined));
    return { granted: true, grant: { settle } };
  }
}
