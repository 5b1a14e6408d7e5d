import { randomUUID } from 'node:crypto';
import type { BudgetDecision, BudgetStore } from '../presence/budget';
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
 * On a Redis Cluster the scripts run on the master of the log's slot: each touches that one key, so
 * it needs no hash tag, and the key keeps its name on a single Redis (a renamed key would split the
 * budget in two while old and new replicas run side by side). A master's failover may lose the
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

const ACQUIRE_COMMAND = 'presenceGraphBudgetAcquire';
const SETTLE_COMMAND = 'presenceGraphBudgetSettle';

type WithBudgetCommands = RedisConnection & {
  [ACQUIRE_COMMAND](key: string, limit: number, windowMs: number, pendingMs: number, member: string): Promise<[number, number]>;
  [SETTLE_COMMAND](key: string, member: string, windowMs: number): Promise<number>;
};

export class RedisBudgetStore implements BudgetStore {
  private readonly redis: WithBudgetCommands;

  constructor(
    redis: RedisConnection,
    private readonly keyPrefix = 'presence-graph:budget:',
  ) {
    // defineCommand sends EVALSHA and loads the script only when Redis does not have it yet.
    redis.defineCommand(ACQUIRE_COMMAND, { numberOfKeys: 1, lua: ACQUIRE });
    redis.defineCommand(SETTLE_COMMAND, { numberOfKeys: 1, lua: SETTLE });
    this.redis = redis as WithBudgetCommands;
  }

  async tryAcquire(action: string, limit: number, windowMs: number, pendingMs: number): Promise<BudgetDecision> {
    const key = this.keyPrefix + action;
    const member = randomUUID();
    const [granted, waitMicros] = await this.redis[ACQUIRE_COMMAND](key, limit, windowMs, pendingMs, member);
    if (granted !== 1) return { granted: false, retryAfterMs: Math.max(1, Math.ceil(waitMicros / 1000)) };
    let settling: Promise<void> | undefined;
    // A settle that fails (Redis gone) leaves the grant counted until grant + pendingMs + window.
    const settle = () => (settling ??= this.redis[SETTLE_COMMAND](key, member, windowMs).then(() => undefined, () => undefined));
    return { granted: true, grant: { settle } };
  }
}
