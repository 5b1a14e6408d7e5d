import type { Cluster } from 'ioredis';
import { createRedisClient, type RedisConnection } from '../../../src/redis/redis-client';
import { RedisPresenceTable } from '../../../src/redis/redis-presence-table';
import type { StatusNotice } from '../../../src/presence/status-notices/status-notice';
import { capturedLogger } from '../../support/captured-logs';
import { describeWithRedisCluster, startRedisCluster, type RedisClusterUnderTest } from '../../support/redis-cluster';
import { uniqueKeyPrefix } from '../../support/redis';
import { redisPresenceTableContract } from '../../unit/redis/redis-presence-table-contract';

const INSTANCE = 'post-cn-cluster';

/**
 * The shared presence table on a real Redis Cluster (three masters, a replica each, started here):
 * the same contract as on one Redis, every script on one slot, and no wrong status when the master
 * holding a group's bucket fails over while notices are being applied.
 */
describeWithRedisCluster('the presence table on a Redis Cluster', () => {
  let cluster: RedisClusterUnderTest;
  let client: Cluster;
  const connections: RedisConnection[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = cluster.client();
  }, 30_000);
  afterAll(async () => {
    for (const connection of connections) connection.disconnect();
    await cluster?.stop();
  });

  redisPresenceTableContract(() => client);

  it('gives every device its right status after the master of its bucket fails over mid-stream (a failed apply is redelivered, as the consumer does)', async () => {
    const { logger } = capturedLogger();
    const seeds = cluster.nodes.map(({ host, port }) => `redis://${host}:${port}`).join(',');
    const redis = createRedisClient(seeds, logger, { cluster: true });
    connections.push(redis);
    await (redis as Cluster).connect();
    const table = new RedisPresenceTable(redis, { keyPrefix: uniqueKeyPrefix('table-failover'), bucketsPerGroup: 8 });

    const devices = Array.from({ length: 40 }, (_, i) => `GID_failover@@@dev-${i}`);
    // The truth: even devices end online (connect), odd ones offline (connect then tcpclean).
    const notices: StatusNotice[] = devices.flatMap((clientId, i) => {
      const connect: StatusNotice = { clientId, groupId: 'GID_failover', eventType: 'connect', channelId: `ch-${i}`, timeMs: 1_000 + i };
      return i % 2 === 0 ? [connect] : [connect, { ...connect, eventType: 'tcpclean', timeMs: 2_000 + i }];
    });
    // At least once, as the broker delivers: a notice whose apply failed is handed back until it lands.
    const applyUntilDone = async (notice: StatusNotice) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await table.applyNotice(INSTANCE, notice, Date.now());
        } catch (error) {
          if (attempt > 200) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    const half = Math.floor(notices.length / 2);
    await Promise.all(notices.slice(0, half).map(applyUntilDone));
    // The master holding bucket 0 of the group (keys are tagged {<instance>:<group>:<bucket>}).
    const failover = cluster.failoverMasterOf(`{${INSTANCE}:GID_failover:0}`);
    const rest = Promise.all(notices.slice(half).map(applyUntilDone));
    await failover;
    await rest;
    // Everything delivered again after the failover changes nothing: idempotent.
    await Promise.all(notices.map(applyUntilDone));

    const entries = await table.getMany(devices.map((clientId) => ({ instanceId: INSTANCE, clientId })));
    expect(entries.map((entry) => entry?.online)).toEqual(devices.map((_, i) => i % 2 === 0));
    expect(await table.countGroup(INSTANCE, 'GID_failover')).toEqual({ online: 20, known: 40 });
  }, 60_000);
});
