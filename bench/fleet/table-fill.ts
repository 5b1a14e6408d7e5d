import type Redis from 'ioredis';
import { createLogger } from '../../src/common/logger';
import { MirroredPresenceTable } from '../../src/presence/status-notices/mirrored-presence-table';
import { StatusNoticeSink } from '../../src/presence/status-notices/status-notice-sink';
import { RedisChangeFeed } from '../../src/redis/redis-change-feed';
import { RedisPresenceTable } from '../../src/redis/redis-presence-table';
import type { PrivateRedis } from './private-redis';

export const FLEET_INSTANCE = 'post-cn-benchfleet';
export const FLEET_GROUPS = Array.from({ length: 10 }, (_, i) => `GID_fleet${i}`);

/** One device's `connect`, as the broker sends it (~190 bytes of JSON), generated in this process. */
export function connectNotice(device: number, timeMs: number): string {
  const group = FLEET_GROUPS[device % FLEET_GROUPS.length];
  return JSON.stringify({
    clientId: `${group}@@@device-${device}`,
    eventType: 'connect',
    channelId: `${device.toString(36)}-0a1b2c3d4e5f60718293`,
    clientIp: `10.${(device >> 16) & 255}.${(device >> 8) & 255}.${device & 255}`,
    time: timeMs,
  });
}

export interface ApplyRun {
  notices: number;
  seconds: number;
  perSecond: number;
  /** CPU of this (the applying) process and of redis-server over the run, µs per notice. */
  clientCpuMicrosPerNotice: number;
  redisCpuMicrosPerNotice: number;
  outcomes: Record<string, number>;
}

/**
 * A sink as a replica composes it (presence-notices.ts): the Redis table behind the in-process mirror
 * every write goes through, with the Redis change feed.
 */
export function replicaSink(redis: Redis, keyPrefix: string): { sink: StatusNoticeSink; close(): Promise<void> } {
  const feed = new RedisChangeFeed(redis, keyPrefix, createLogger('warn'));
  const table = new MirroredPresenceTable({ shared: new RedisPresenceTable(redis, { keyPrefix: `${keyPrefix}table:` }), feed });
  const sink = new StatusNoticeSink({ instanceId: FLEET_INSTANCE, groups: FLEET_GROUPS, table, feed });
  return {
    sink,
    close: async () => {
      table.close();
      await feed.close();
    },
  };
}

export async function redisCpuMicros(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

/**
 * Applies `count` notices made by `body(i)` through `apply`, `inFlight` at a time (one process, as one
 * replica's consumer holds up to its prefetch of unacked notices at once).
 */
export async function applyMany(
  redis: Redis,
  count: number,
  inFlight: number,
  body: (i: number) => string,
  apply: (body: string) => Promise<string>,
  progress?: (done: number) => void,
): Promise<ApplyRun> {
  const outcomes: Record<string, number> = {};
  const cpuBefore = process.cpuUsage();
  const redisBefore = await redisCpuMicros(redis);
  const started = process.hrtime.bigint();
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < count; i = next++) {
        const outcome = await apply(body(i));
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        if (++done % 100_000 === 0) progress?.(done);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const redisAfter = await redisCpuMicros(redis);
  return {
    notices: count,
    seconds,
    perSecond: count / seconds,
    clientCpuMicrosPerNotice: (cpu.user + cpu.system) / count,
    redisCpuMicrosPerNotice: (redisAfter - redisBefore) / count,
    outcomes,
  };
}

export interface FillFigures {
  devices: number;
  fill: ApplyRun;
  /** The floor: one HSET per notice of the same body, same concurrency, same Redis. */
  floor: ApplyRun;
  usedMemoryBefore: number;
  usedMemoryAfter: number;
  bytesPerDevice: number;
  known: number;
  online: number;
  redisVersion: string;
}

/**
 * 1,000,000 devices made known through the sink into a private Redis, as a replica applies them:
 * one `connect` each (generated here, not read from a broker), `inFlight` at a time.
 */
export async function fillFleet(redisServer: PrivateRedis, devices: number, inFlight: number, log: (message: string) => void): Promise<FillFigures> {
  // The client a replica makes (redis-client.ts), so the sink pays what it pays in production.
  const redis = await redisServer.replicaClient();
  const prefix = 'bench-fleet:';
  const { sink, close } = replicaSink(redis, prefix);
  const table = new RedisPresenceTable(redis, { keyPrefix: `${prefix}table:` });
  try {
    const t0 = Date.now();
    // The floor first, on keys of its own, deleted before the fill is measured.
    const floor = await applyMany(redis, Math.min(devices, 200_000), inFlight, (i) => connectNotice(i, t0 + i), async (body) => {
      await redis.hset('bench-floor', body.slice(12, 40), body);
      return 'hset';
    });
    await redis.del('bench-floor');
    log(`fleet: floor (HSET) ${Math.round(floor.perSecond)} /s`);
    const before = await redisServer.usedMemory();
    // Stamped now: a notice stamped ahead of the service clock (beyond what the table allows) is rejected.
    const fill = await applyMany(redis, devices, inFlight, (i) => connectNotice(i, Date.now()), (body) => sink.accept(body), (done) => log(`fleet: ${done} devices applied`));
    const after = await redisServer.usedMemory();
    let known = 0;
    let online = 0;
    for (const group of FLEET_GROUPS) {
      const count = await table.countGroup(FLEET_INSTANCE, group);
      known += count.known;
      online += count.online;
    }
    if (known !== devices || fill.outcomes.applied !== devices) {
      throw new Error(`the table knows ${known} of ${devices} devices after the fill (outcomes ${JSON.stringify(fill.outcomes)})`);
    }
    return {
      devices,
      fill,
      floor,
      usedMemoryBefore: before,
      usedMemoryAfter: after,
      bytesPerDevice: (after - before) / devices,
      known,
      online,
      redisVersion: redisServer.version,
    };
  } finally {
    await close();
  }
}
