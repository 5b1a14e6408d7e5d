import { cpus } from 'node:os';
import Redis from 'ioredis';
import type { StatusNotice } from '../../src/presence/status-notices/status-notice';
import { RedisPresenceTable } from '../../src/redis/redis-presence-table';

/**
 * Memory per device and notices per second of the Redis presence table.
 *   npx ts-node --transpile-only bench/fleet/presence-table-memory.ts --devices 100000 --groups 10
 *   (also --buckets N, --concurrency N, --auto-pipelining)
 * Each device gets a realistic history: connect, tcpclean, connect of a new channel (one open channel
 * and one tombstone). Memory is `INFO memory` used_memory before and after, over the devices. Keys
 * are deleted at the end.
 */
function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const devices = option('devices', 100_000);
const groups = option('groups', 10);
const buckets = option('buckets', 1024);
const concurrency = option('concurrency', 512);
const T = 1_700_000_000_000;

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

function noticesOf(i: number): StatusNotice[] {
  const groupId = `GID_bench${i % groups}`;
  const clientId = `${groupId}@@@device-${i}`;
  const t = T + i;
  return [
    { clientId, groupId, eventType: 'connect', channelId: `${i}-a-0a1b2c3d4e5f`, timeMs: t },
    { clientId, groupId, eventType: 'tcpclean', channelId: `${i}-a-0a1b2c3d4e5f`, timeMs: t + 60_000 },
    { clientId, groupId, eventType: 'connect', channelId: `${i}-b-0a1b2c3d4e5f`, timeMs: t + 61_000 },
  ];
}

async function main(): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: process.argv.includes('--auto-pipelining') });
  const keyPrefix = `presence-graph-bench:${process.pid}:`;
  const table = new RedisPresenceTable(redis, { keyPrefix, bucketsPerGroup: buckets });
  const before = await usedMemory(redis);
  const started = Date.now();
  let next = 0;
  let applied = 0;
  // Notices of one device in order, devices concurrently: `concurrency` devices in flight.
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < devices; i = next++) {
        for (const notice of noticesOf(i)) {
          await table.applyNotice('post-cn-bench', notice, T + 100_000 + i);
          applied++;
        }
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const after = await usedMemory(redis);
  const timed = async <R>(what: () => Promise<R>): Promise<[R, number]> => {
    const at = process.hrtime.bigint();
    const result = await what();
    return [result, Number(process.hrtime.bigint() - at) / 1e6];
  };
  const [count, countMs] = await timed(() => table.countGroup('post-cn-bench', 'GID_bench0'));
  const [page, listMs] = await timed(() => table.listOnline('post-cn-bench', 'GID_bench0', 1000));
  const [, listNextMs] = await timed(() => table.listOnline('post-cn-bench', 'GID_bench0', 1000, page.endCursor));
  const [stale, verifyMs] = await timed(() => table.leastRecentlyVerified(1000, T + 100_000 + devices / 2));
  const encoding = await redis.object('ENCODING', table.bucketKey('post-cn-bench', 'GID_bench0', 0));
  const entries = await redis.hlen(table.bucketKey('post-cn-bench', 'GID_bench0', 0));
  console.log(
    JSON.stringify(
      {
        machine: `${cpus()[0]?.model} × ${cpus().length}`,
        redis: (await redis.info('server')).match(/redis_version:(\S+)/)?.[1],
        devices,
        groups,
        bucketsPerGroup: buckets,
        concurrency,
        notices: applied,
        noticesPerSecond: Math.round(applied / seconds),
        usedMemoryDeltaMB: +((after - before) / 1e6).toFixed(1),
        bytesPerDevice: Math.round((after - before) / devices),
        bucket0: { encoding, entries },
        countGroup: { ...count, ms: +countMs.toFixed(1) },
        listOnlineFirst1000Ms: +listMs.toFixed(1),
        listOnlineNext1000Ms: +listNextMs.toFixed(1),
        leastRecentlyVerified1000: { found: stale.length, ms: +verifyMs.toFixed(1) },
      },
      null,
      2,
    ),
  );
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = nextCursor;
  } while (cursor !== '0');
  await redis.quit();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
