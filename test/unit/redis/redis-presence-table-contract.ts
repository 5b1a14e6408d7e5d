import type { Cluster, Command, Redis } from 'ioredis';
import { RedisPresenceTable } from '../../../src/redis/redis-presence-table';
import { notice } from '../presence/status-notices/notice-histories';
import { presenceTableContract } from '../presence/status-notices/presence-table-contract';
import { uniqueKeyPrefix } from '../../support/redis';

// ioredis computes cluster slots with this package (it ships no types of its own).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const calculateSlot: (key: string | Buffer) => number = require('cluster-key-slot');

const T = 1_700_000_000_000;
/** Enough buckets that the contract's small fleets spread over several, so listing crosses buckets. */
const BUCKETS = 64;

/**
 * The Redis table's tests, for any ioredis client: a single Redis (redis-presence-table.test.ts) or a
 * Redis Cluster (call this with the cluster harness's `client`). Each test uses its own key prefix;
 * `prefixes` collects them for the caller's clean-up.
 */
export function redisPresenceTableContract(client: () => Redis | Cluster, prefixes: string[] = []): void {
  const makeTable = (options: ConstructorParameters<typeof RedisPresenceTable>[1] = {}) => {
    const keyPrefix = uniqueKeyPrefix('table');
    prefixes.push(keyPrefix);
    return new RedisPresenceTable(client(), { bucketsPerGroup: BUCKETS, ...options, keyPrefix });
  };

  describe('the presence table contract', () => {
    presenceTableContract((options) => makeTable({ batchLagMs: 10_000, ...options }));
  });

  it('sends only commands whose keys all hash to one slot, so every script runs on a Redis Cluster', async () => {
    const redis = client();
    const seen: Array<{ name: string; slots: number[] }> = [];
    const send = redis.sendCommand.bind(redis) as (command: Command, ...rest: unknown[]) => unknown;
    const spy = jest.spyOn(redis, 'sendCommand').mockImplementation((command: Command, ...rest: unknown[]) => {
      seen.push({ name: command.name, slots: [...new Set(command.getKeys().map((key) => calculateSlot(key)))] });
      return send(command, ...rest);
    });
    try {
      const table = makeTable();
      for (let i = 0; i < 20; i++) await table.applyNotice('inst', notice('connect', `c${i}`, T + i, `GID_slots@@@d${i}`), T + i);
      await table.applyBatchAnswer({ instanceId: 'inst', clientId: 'GID_slots@@@d0' }, false, T + 60_000, T + 60_000);
      await table.getMany([{ instanceId: 'inst', clientId: 'GID_slots@@@d1' }, { instanceId: 'inst', clientId: 'GID_slots@@@d2' }]);
      await table.countGroup('inst', 'GID_slots');
      await table.listOnline('inst', 'GID_slots', 5);
      await table.leastRecentlyVerified(5, T + 100);
    } finally {
      spy.mockRestore();
    }
    const scripts = seen.filter(({ name }) => name === 'evalsha' || name === 'eval');
    expect(scripts.length).toBeGreaterThan(BUCKETS);
    expect(seen.filter(({ slots }) => slots.length > 1)).toEqual([]);
    expect(scripts.filter(({ slots }) => slots.length !== 1)).toEqual([]);
  });

  it('applies notices submitted together with one read and one compare-and-set script (per slot on a cluster), each device\'s in order', async () => {
    const redis = client();
    const scripts: Array<{ slots: number[] }> = [];
    const send = redis.sendCommand.bind(redis) as (command: Command, ...rest: unknown[]) => unknown;
    const spy = jest.spyOn(redis, 'sendCommand').mockImplementation((command: Command, ...rest: unknown[]) => {
      if (command.name === 'evalsha' || command.name === 'eval') scripts.push({ slots: [...new Set(command.getKeys().map((key) => calculateSlot(key)))] });
      return send(command, ...rest);
    });
    const table = makeTable();
    await table.countGroup('inst', 'GID_together'); // its scripts loaded: no NOSCRIPT round below
    scripts.length = 0;
    let results;
    try {
      // 20 devices connect; the first 10 also end that channel, submitted right after their connect.
      const notices = Array.from({ length: 20 }, (_, i) => notice('connect', `c${i}`, T + i, `GID_together@@@d${i}`));
      for (let i = 0; i < 10; i++) notices.push(notice('tcpclean', `c${i}`, T + 100 + i, `GID_together@@@d${i}`));
      results = await Promise.all(notices.map((n, i) => table.applyNotice('inst', n, T + 1000 + i)));
    } finally {
      spy.mockRestore();
    }
    expect(results.map((result) => result.outcome)).toEqual(new Array(30).fill('applied'));
    // Each update reports its own flip, as if applied one by one: online at its connect, offline at its tcpclean.
    expect(results.map((result) => result.change?.online)).toEqual([...new Array(20).fill(true), ...new Array(10).fill(false)]);
    const entries = await table.getMany(Array.from({ length: 20 }, (_, i) => ({ instanceId: 'inst', clientId: `GID_together@@@d${i}` })));
    expect(entries.map((entry) => entry?.online)).toEqual([...new Array(10).fill(false), ...new Array(10).fill(true)]);
    expect(await table.countGroup('inst', 'GID_together')).toEqual({ online: 10, known: 20 });
    if (client().isCluster) {
      expect(scripts.filter(({ slots }) => slots.length !== 1)).toEqual([]);
    } else {
      expect(scripts).toHaveLength(2);
    }
  });

  it('ends with the truth when two replicas apply the same devices\' notices at once (their compare-and-sets collide)', async () => {
    const keyPrefix = uniqueKeyPrefix('table');
    prefixes.push(keyPrefix);
    const replicas = [0, 1].map(() => new RedisPresenceTable(client(), { bucketsPerGroup: BUCKETS, keyPrefix, batchLagMs: 10_000 }));
    const devices = Array.from({ length: 10 }, (_, i) => `GID_race@@@d${i}`);
    // Per device: connect a, connect b, tcpclean a, alternately handed to the two replicas, all at once.
    const notices = devices.flatMap((clientId, i) => [
      notice('connect', `a${i}`, T + 1, clientId),
      notice('connect', `b${i}`, T + 2, clientId),
      notice('tcpclean', `a${i}`, T + 3, clientId),
      notice('tcpclean', `b${i}`, T + 4, clientId),
    ]);
    const stillOnline = new Set(devices.filter((_, i) => i % 2 === 0));
    const sent = notices.filter((n) => !(stillOnline.has(n.clientId) && n.eventType === 'tcpclean' && n.channelId.startsWith('b')));
    await Promise.all(sent.map((n, i) => replicas[i % 2].applyNotice('inst', n, T + 1000)));
    const entries = await replicas[0].getMany(devices.map((clientId) => ({ instanceId: 'inst', clientId })));
    expect(entries.map((entry) => entry?.online)).toEqual(devices.map((clientId) => stillOnline.has(clientId)));
    expect(await replicas[1].countGroup('inst', 'GID_race')).toEqual({ online: 5, known: 10 });
  });

  it('spreads one group over many slots, one bucket per slot, so a large group is not one hot key', () => {
    const table = makeTable();
    const slots = new Set(Array.from({ length: BUCKETS }, (_, bucket) => calculateSlot(table.bucketKey('inst', 'GID_big', bucket))));
    expect(slots.size).toBeGreaterThan(BUCKETS * 0.9);
  });

  it('keeps a bucket in the compact listpack encoding, with records well under 64 bytes', async () => {
    const table = makeTable({ bucketsPerGroup: 1 });
    for (let i = 0; i < 100; i++) {
      const clientId = `GID_compact@@@device-${i}`;
      await table.applyNotice('inst', notice('connect', `old-${i}`, T + i, clientId), T + i);
      await table.applyNotice('inst', notice('tcpclean', `old-${i}`, T + 1000 + i, clientId), T + 1000 + i);
      await table.applyNotice('inst', notice('connect', `new-${i}`, T + 2000 + i, clientId), T + 2000 + i);
    }
    const key = table.bucketKey('inst', 'GID_compact', 0);
    expect(['listpack', 'ziplist']).toContain(await client().object('ENCODING', key));
    expect(await client().hstrlen(key, 'GID_compact@@@device-7')).toBeLessThanOrEqual(40);
  });

  it('reads a record it cannot decode as unknown, and replaces it at the next update', async () => {
    const table = makeTable({ bucketsPerGroup: 1 });
    const key = table.bucketKey('inst', 'GID_garbled', 0);
    await client().hset(key, 'GID_garbled@@@d1', 'x');
    const device = { instanceId: 'inst', clientId: 'GID_garbled@@@d1' };
    expect(await table.getMany([device])).toEqual([undefined]);
    await table.applyNotice('inst', notice('connect', 'a', T, device.clientId), T);
    expect((await table.getMany([device]))[0]?.online).toBe(true);
  });

  it('rejects bad options with a message naming the option', () => {
    expect(() => new RedisPresenceTable(client(), { bucketsPerGroup: 0 })).toThrow('RedisPresenceTable: bucketsPerGroup must be a whole number ≥ 1; got 0');
    expect(() => new RedisPresenceTable(client(), { keyPrefix: 'a{b}' })).toThrow(/keyPrefix must not contain braces/);
  });
}
