import { RedisPresenceCache } from '../../../src/redis/redis-presence-cache';
import { describeWithRedis, twoReplicaConnections } from '../../support/redis';
import { waitFor } from '../../support/wait-for';

/** The presence cache shared by replicas, on the real Redis; two connections stand for two replicas. */
describeWithRedis('RedisPresenceCache on a real Redis', ['redis'], () => {
  const { prefix, replicaA, replicaB } = twoReplicaConnections('presence');

  it('gives another replica back what one stored, in the order asked, with undefined for keys never stored', async () => {
    const writer = new RedisPresenceCache(replicaA(), prefix);
    const reader = new RedisPresenceCache(replicaB(), prefix);
    await writer.setMany(
      [
        ['inst\nGID_a@@@on', { online: true, checkedAtMs: 1_700_000_000_123 }],
        ['inst\nGID_a@@@off', { online: false, checkedAtMs: 1_700_000_000_456 }],
      ],
      60_000,
    );

    expect(await reader.getMany(['inst\nGID_a@@@off', 'inst\nGID_a@@@never', 'inst\nGID_a@@@on'])).toEqual([
      { online: false, checkedAtMs: 1_700_000_000_456 },
      undefined,
      { online: true, checkedAtMs: 1_700_000_000_123 },
    ]);
  });

  it('lets Redis drop an entry once its time to live has passed, and not before', async () => {
    const cache = new RedisPresenceCache(replicaA(), prefix);
    const written = Date.now();
    await cache.setMany([['inst\nGID_a@@@brief', { online: true, checkedAtMs: written }]], 150);

    const ttl = await replicaA().pttl(`${prefix}inst\nGID_a@@@brief`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(150);
    expect(await cache.getMany(['inst\nGID_a@@@brief'])).toEqual([{ online: true, checkedAtMs: written }]);
    await waitFor('the entry to expire', async () => (await cache.getMany(['inst\nGID_a@@@brief']))[0] === undefined, 2000, 10);
    expect(Date.now() - written).toBeGreaterThanOrEqual(145);
  });

  it('overwrites an entry with the newer status and its new time to live', async () => {
    const cache = new RedisPresenceCache(replicaA(), prefix);
    await cache.setMany([['inst\nGID_a@@@flip', { online: true, checkedAtMs: 1 }]], 100);
    await cache.setMany([['inst\nGID_a@@@flip', { online: false, checkedAtMs: 2 }]], 60_000);
    expect(await cache.getMany(['inst\nGID_a@@@flip'])).toEqual([{ online: false, checkedAtMs: 2 }]);
    expect(await replicaA().pttl(`${prefix}inst\nGID_a@@@flip`)).toBeGreaterThan(100);
  });

  it('keeps the status asked later when an older answer is written after it, from any replica', async () => {
    const exact = new RedisPresenceCache(replicaA(), prefix);
    const batch = new RedisPresenceCache(replicaB(), prefix);
    await exact.setMany([['inst\nGID_a@@@race', { online: false, checkedAtMs: 1_700_000_000_200 }]], 60_000);
    await batch.setMany(
      [
        ['inst\nGID_a@@@race', { online: true, checkedAtMs: 1_700_000_000_100 }],
        ['inst\nGID_a@@@other', { online: true, checkedAtMs: 1_700_000_000_100 }],
      ],
      60_000,
    );
    expect(await exact.getMany(['inst\nGID_a@@@race', 'inst\nGID_a@@@other'])).toEqual([
      { online: false, checkedAtMs: 1_700_000_000_200 },
      { online: true, checkedAtMs: 1_700_000_000_100 },
    ]);
  });

  it('reads a value it cannot decode as not stored, never as a status', async () => {
    await replicaA().set(`${prefix}inst\nGID_a@@@garbled`, 'yes:soon');
    await replicaA().set(`${prefix}inst\nGID_a@@@half`, '1');
    const cache = new RedisPresenceCache(replicaA(), prefix);
    expect(await cache.getMany(['inst\nGID_a@@@garbled', 'inst\nGID_a@@@half'])).toEqual([undefined, undefined]);
  });

  it('sends nothing for an empty read or write, or for a time to live of zero', async () => {
    const cache = new RedisPresenceCache(replicaA(), prefix);
    expect(await cache.getMany([])).toEqual([]);
    await cache.setMany([], 1000);
    await cache.setMany([['inst\nGID_a@@@zero', { online: true, checkedAtMs: 1 }]], 0);
    expect(await replicaA().exists(`${prefix}inst\nGID_a@@@zero`)).toBe(0);
  });
});
