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
