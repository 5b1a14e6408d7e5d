import type Redis from 'ioredis';
import type { CachedPresence, PresenceCacheStore } from '../presence/presence-cache';

/**
 * Writes each status unless the key holds one asked later (PresenceCacheStore.setMany): the
 * comparison and the SET in one script, so another replica's write cannot slip in between.
 * KEYS: the entries' keys; ARGV[1]: time to live in ms; ARGV[1 + i]: the value for KEYS[i].
 */
const SET_IF_NOT_OLDER = `
for i, key in ipairs(KEYS) do
  local value = ARGV[i + 1]
  local held = redis.call('GET', key)
  local heldAt = held and tonumber(string.match(held, ':(%d+)$'))
  if not heldAt or heldAt <= tonumber(string.match(value, ':(%d+)$')) then
    redis.call('SET', key, value, 'PX', ARGV[1])
  end
end
return 1
`;

const SET_COMMAND = 'presenceGraphCacheSetIfNotOlder';

type WithCacheCommands = Redis & {
  [SET_COMMAND](...keysThenArgs: Array<string | number>): Promise<number>;
};

/**
 * The presence cache shared by every replica: one string per device, `<online 0|1>:<checkedAtMs>`,
 * expired by Redis itself. Reads are one MGET, writes one script call, whatever the number of keys.
 */
export class RedisPresenceCache implements PresenceCacheStore {
  private readonly redis: WithCacheCommands;

  constructor(
    redis: Redis,
    private readonly keyPrefix = 'presence-graph:presence:',
  ) {
    // defineCommand sends EVALSHA and loads the script only when Redis does not have it yet.
    redis.defineCommand(SET_COMMAND, { lua: SET_IF_NOT_OLDER });
    this.redis = redis as WithCacheCommands;
  }

  async getMany(keys: string[]): Promise<Array<CachedPresence | undefined>> {
    if (keys.length === 0) return [];
    const values = await this.redis.mget(keys.map((key) => this.keyPrefix + key));
    return values.map(decode);
  }

  async setMany(entries: Array<[string, CachedPresence]>, ttlMs: number): Promise<void> {
    if (entries.length === 0 || ttlMs <= 0) return;
    const keys = entries.map(([key]) => this.keyPrefix + key);
    const values = entries.map(([, value]) => `${value.online ? 1 : 0}:${Math.floor(value.checkedAtMs)}`);
    // Without numberOfKeys in defineCommand, the first argument says how many keys follow.
    await this.redis[SET_COMMAND](keys.length, ...keys, Math.ceil(ttlMs), ...values);
  }
}

function decode(value: string | null): CachedPresence | undefined {
  if (!value) return undefined;
  const [online, checkedAt] = value.split(':');
  const checkedAtMs = Number(checkedAt);
  if ((online !== '0' && online !== '1') || !Number.isFinite(checkedAtMs)) return undefined;
  return { online: online === '1', checkedAtMs };
}
