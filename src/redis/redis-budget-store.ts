import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { BudgetDecision, BudgetStore } from '../presence/budget';

/**
 * The account-wide call budget shared by every replica: a sliding log of grant times per action in
 * one sorted set, checked and updated by one Lua script so that no two replicas can both take the
 * last grant of a window. Redis's own clock (TIME) is used, never a replica's, so replicas whose
 * clocks disagree still count the same window.
 *
 * Microsecond scores: several grants per millisecond are normal under load.
 */
const SLIDING_LOG = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2]) * 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
`;

const COMMAND = 'presenceGraphBudget';

type WithBudgetCommand = Redis & {
  [COMMAND](key: string, limit: number, windowMs: number, member: string): Promise<[number, number]>;
};

export class RedisBudgetStore implements BudgetStore {
  private readonly redis: WithBudgetCommand;

  constructor(
    redis: Redis,
    private readonly keyPrefix = 'presence-graph:budget:',
  ) {
    // defineCommand sends EVALSHA and loads the script only when Redis does not have it yet.
    redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: SLIDING_LOG });
    this.redis = redis as WithBudgetCommand;
  }

  async tryAcquire(action: string, limit: number, windowMs: number): Promise<BudgetDecision> {
    const [granted, waitMicros] = await this.redis[COMMAND](this.keyPrefix + action, limit, windowMs, randomUUID());
    if (granted === 1) return { granted: true };
    return { granted: false, retryAfterMs: Math.max(1, Math.ceil(waitMicros / 1000)) };
  }
}
