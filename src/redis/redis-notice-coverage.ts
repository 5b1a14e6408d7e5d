import type { NoticeCoverage } from '../presence/status-notices/notice-coverage';
import type { RedisConnection } from './redis-client';

const CONSUMING_COMMAND = 'presenceNoticeCoverage';

// KEYS[1] the coverage key; ARGV[1] now (ms), ARGV[2] maxGapMs. Keeps the start of the coverage and
// gives it another maxGapMs: the key lapses when no replica has said it consumes for that long.
const CONSUMING = `
local since = redis.call('GET', KEYS[1])
if not since then since = ARGV[1] end
redis.call('SET', KEYS[1], since, 'PX', ARGV[2])
return since
`;

type WithCoverage = RedisConnection & { [CONSUMING_COMMAND](key: string, nowMs: number, maxGapMs: number): Promise<string> };

/**
 * The consumers' coverage as one key (one slot on a Redis Cluster) holding when it began, kept alive by
 * every consuming replica and lapsing `maxGapMs` after the last one stopped. Times are the replicas'
 * clocks (NTP, as for the rest of the table's evidence).
 */
export class RedisNoticeCoverage implements NoticeCoverage {
  private readonly redis: WithCoverage;

  constructor(
    redis: RedisConnection,
    private readonly key: string,
  ) {
    // defineCommand sends EVALSHA and loads the script only when Redis does not have it yet.
    redis.defineCommand(CONSUMING_COMMAND, { numberOfKeys: 1, lua: CONSUMING });
    this.redis = redis as WithCoverage;
  }

  async consuming(nowMs: number, maxGapMs: number): Promise<number> {
    return Number(await this.redis[CONSUMING_COMMAND](this.key, Math.floor(nowMs), Math.max(1, Math.floor(maxGapMs))));
  }

  async since(): Promise<number | undefined> {
    const value = await this.redis.get(this.key);
    return value === null ? undefined : Number(value);
  }
}
