import { InvalidInputError } from '../../../../src/presence/errors';
import type { PresenceTableOptions } from '../../../../src/presence/status-notices/device-record';
import type { PresenceTableStore } from '../../../../src/presence/status-notices/presence-table';
import { notice, randomHistory, redeliveredShuffled, seededRandom } from './notice-histories';

/**
 * What every PresenceTableStore promises (presence-table.ts), run against each implementation: the
 * memory table, the Redis table on one Redis, and (with test/support/redis-cluster.ts) on a Redis
 * Cluster. `makeTable` gives a fresh, empty table for each test.
 */
export type MakeTable = (options: PresenceTableOptions) => PresenceTableStore | Promise<PresenceTableStore>;

const T = 1_700_000_000_000;
const I = 'post-cn-test';
const G = 'GID_contract';
const dev = (name: string, group = G) => `${group}@@@${name}`;
const key = (name: string, group = G) => ({ instanceId: I, clientId: dev(name, group) });

export function presenceTableContract(makeTable: MakeTable, options: PresenceTableOptions = { batchLagMs: 10_000 }): void {
  const table = () => Promise.resolve(makeTable(options));

  describe('applying notices', () => {
    it('puts a device online at its connect, reporting the flip, and knows nothing of devices never mentioned', async () => {
      const store = await table();
      expect(await store.applyNotice(I, notice('connect', 'a', T, dev('d1')), T + 7)).toEqual({
        outcome: 'applied',
        change: { key: key('d1'), online: true, atMs: T },
      });
      expect(await store.getMany([key('d1'), key('never')])).toEqual([{ online: true, decidedAtMs: T, decidedBy: 'notice', evidenceAtMs: T + 7 }, undefined]);
    });

    it('calls a redelivered notice a duplicate and changes nothing, not even the evidence', async () => {
      const store = await table();
      await store.applyNotice(I, notice('connect', 'a', T, dev('d1')), T + 7);
      expect(await store.applyNotice(I, notice('connect', 'a', T, dev('d1')), T + 900)).toEqual({ outcome: 'duplicate' });
      expect((await store.getMany([key('d1')]))[0]?.evidenceAtMs).toBe(T + 7);
    });

    it('takes a device offline at its tcpclean, and reports no flip through a takeover', async () => {
      const store = await table();
      await store.applyNotice(I, notice('connect', 'a', T, dev('d1')), T);
      expect(await store.applyNotice(I, notice('connect', 'b', T + 100, dev('d1')), T + 100)).toEqual({ outcome: 'applied' });
      expect(await store.applyNotice(I, notice('tcpclean', 'a', T + 101, dev('d1')), T + 101)).toEqual({ outcome: 'applied' });
      expect(await store.applyNotice(I, notice('tcpclean', 'b', T + 500, dev('d1')), T + 500)).toEqual({
        outcome: 'applied',
        change: { key: key('d1'), online: false, atMs: T + 500 },
      });
    });

    it('rejects a notice stamped far ahead of the service clock, since it would outweigh every later one', async () => {
      const store = await table();
      const result = await store.applyNotice(I, notice('connect', 'a', T + 3_600_000, dev('d1')), T);
      expect(result).toEqual({ outcome: 'rejected', reason: expect.stringMatching(/ahead of the service clock/) });
      expect(await store.getMany([key('d1')])).toEqual([undefined]);
    });

    it('ends with the true status of every device whatever the order, redelivery and concurrency of its notices', async () => {
      const store = await table();
      const random = seededRandom(42);
      const histories = Array.from({ length: 30 }, (_, i) => ({ name: `m${i}`, history: randomHistory(random, 6, T, dev(`m${i}`)) }));
      const deliveries = redeliveredShuffled(random, histories.flatMap(({ history }) => history.notices));
      // All at once: on Redis, notices of one device race, and the compare-and-set must settle them.
      await Promise.all(deliveries.map((delivered, i) => store.applyNotice(I, delivered, T + 100_000 + i)));
      const entries = await store.getMany(histories.map(({ name }) => key(name)));
      expect(entries.map((entry) => entry?.online)).toEqual(histories.map(({ history }) => history.online));
      expect(await store.countGroup(I, G)).toEqual({ online: histories.filter(({ history }) => history.online).length, known: 30 });
    });
  });

  describe('applying batch answers', () => {
    it('seeds a device the notices never mentioned, as decided by the batch', async () => {
      const store = await table();
      expect(await store.applyBatchAnswer(key('on'), true, T, T + 30)).toEqual({ outcome: 'applied', change: { key: key('on'), online: true, atMs: T } });
      expect(await store.applyBatchAnswer(key('off'), false, T, T + 30)).toEqual({ outcome: 'applied' });
      expect(await store.getMany([key('on'), key('off')])).toEqual([
        { online: true, decidedAtMs: T, decidedBy: 'batch', evidenceAtMs: T },
        { online: false, decidedAtMs: T, decidedBy: 'batch', evidenceAtMs: T },
      ]);
    });

    it('closes a channel whose tcpclean was lost, but never overrides a notice younger than batchLagMs', async () => {
      const store = await table();
      await store.applyNotice(I, notice('connect', 'a', T, dev('d1')), T);
      expect(await store.applyBatchAnswer(key('d1'), false, T + 5_000, T + 5_050)).toEqual({ outcome: 'applied' });
      expect((await store.getMany([key('d1')]))[0]).toEqual({ online: true, decidedAtMs: T, decidedBy: 'notice', evidenceAtMs: T });
      expect(await store.applyBatchAnswer(key('d1'), false, T + 60_000, T + 60_050)).toEqual({
        outcome: 'applied',
        change: { key: key('d1'), online: false, atMs: T + 60_000 },
      });
      expect((await store.getMany([key('d1')]))[0]).toEqual({ online: false, decidedAtMs: T + 60_000, decidedBy: 'batch', evidenceAtMs: T + 60_000 });
    });

    it('calls an answer older than one already applied a duplicate', async () => {
      const store = await table();
      await store.applyBatchAnswer(key('d1'), true, T + 10, T + 20);
      expect(await store.applyBatchAnswer(key('d1'), true, T + 5, T + 30)).toEqual({ outcome: 'duplicate' });
    });
  });

  describe('counting and listing a group', () => {
    async function fleet(store: PresenceTableStore, online: number, offline: number, group = G): Promise<string[]> {
      const names = Array.from({ length: online + offline }, (_, i) => `n${String(i).padStart(3, '0')}`);
      await Promise.all(
        names.map(async (name, i) => {
          await store.applyNotice(I, notice('connect', `c-${name}`, T + i, dev(name, group)), T + i);
          if (i >= online) await store.applyNotice(I, notice('tcpclean', `c-${name}`, T + 1000 + i, dev(name, group)), T + 1000 + i);
        }),
      );
      return names.slice(0, online).map((name) => dev(name, group));
    }

    it('counts the online and known devices of one group of one instance', async () => {
      const store = await table();
      await fleet(store, 7, 5);
      await fleet(store, 2, 1, 'GID_other');
      await store.applyNotice('post-cn-elsewhere', notice('connect', 'x', T, dev('far')), T);
      expect(await store.countGroup(I, G)).toEqual({ online: 7, known: 12 });
      expect(await store.countGroup(I, 'GID_other')).toEqual({ online: 2, known: 3 });
      expect(await store.countGroup(I, 'GID_empty')).toEqual({ online: 0, known: 0 });
    });

    it('lists every online device exactly once across pages, in the same order every time', async () => {
      const store = await table();
      const online = await fleet(store, 9, 4);
      const walk = async () => {
        const seen: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.listOnline(I, G, 2, after);
          seen.push(...page.clientIds);
          if (!page.hasNextPage) return seen;
          after = page.endCursor;
        }
      };
      const first = await walk();
      expect([...first].sort()).toEqual([...online].sort());
      expect(await walk()).toEqual(first);
      const whole = await store.listOnline(I, G, 1000);
      expect(whole).toEqual({ clientIds: first, cursors: expect.any(Array), endCursor: whole.cursors[whole.cursors.length - 1], hasNextPage: false });
      expect(await store.listOnline(I, 'GID_empty', 10)).toEqual({ clientIds: [], cursors: [], hasNextPage: false });
    });

    it('knows how many devices it holds, online or not, across groups', async () => {
      const store = await table();
      expect(await store.size()).toBe(0);
      await fleet(store, 9, 4);
      await store.applyNotice(I, notice('connect', 'z', T, dev('other', 'GID_second')), T);
      expect(await store.size()).toBe(9 + 4 + 1);
    });

    it('gives every listed device a cursor that resumes right after it (a Relay edge\'s cursor)', async () => {
      const store = await table();
      await fleet(store, 9, 4);
      const whole = await store.listOnline(I, G, 1000);
      expect(whole.cursors).toHaveLength(whole.clientIds.length);
      for (let i = 0; i < whole.clientIds.length - 1; i++) {
        expect((await store.listOnline(I, G, 1, whole.cursors[i])).clientIds).toEqual([whole.clientIds[i + 1]]);
      }
    });

    it('refuses a page size outside 1..1000, a cursor it did not issue and a malformed Group ID', async () => {
      const store = await table();
      await expect(store.listOnline(I, G, 0)).rejects.toThrow(InvalidInputError);
      await expect(store.listOnline(I, G, 1001)).rejects.toThrow(/first must be a whole number from 1 to 1000/);
      await expect(store.listOnline(I, G, 10, 'not-a-cursor')).rejects.toThrow(/after is not a cursor/);
      await expect(store.countGroup(I, 'GID_{x}')).rejects.toThrow(InvalidInputError);
    });
  });

  describe('choosing devices to verify', () => {
    it('gives the devices with the oldest evidence first, skipping those with evidence after quietSinceMs', async () => {
      const store = await table();
      await store.applyNotice(I, notice('connect', 'a', T, dev('old')), T + 10);
      await store.applyNotice(I, notice('connect', 'b', T, dev('older')), T + 5);
      await store.applyNotice(I, notice('connect', 'c', T, dev('other-group', 'GID_other')), T + 7);
      await store.applyNotice(I, notice('connect', 'd', T, dev('fresh')), T + 50);
      expect(await store.leastRecentlyVerified(10, T + 20)).toEqual([key('older'), key('other-group', 'GID_other'), key('old')]);
      expect(await store.leastRecentlyVerified(1, T + 20)).toEqual([key('older')]);
      // An agreeing batch answer is evidence as of when it was asked.
      await store.applyBatchAnswer(key('older'), true, T + 30, T + 31);
      expect(await store.leastRecentlyVerified(10, T + 20)).toEqual([key('other-group', 'GID_other'), key('old')]);
    });

    it('picks among the given instances only, so older rows of other instances never crowd them out', async () => {
      const store = await table();
      const other = { instanceId: 'post-cn-other001', clientId: dev('elsewhere') };
      await store.applyNotice(other.instanceId, notice('connect', 'a', T, other.clientId), T + 1);
      await store.applyNotice(I, notice('connect', 'b', T, dev('mine')), T + 10);
      expect(await store.leastRecentlyVerified(1, T + 20)).toEqual([other]);
      expect(await store.leastRecentlyVerified(1, T + 20, new Set([I]))).toEqual([key('mine')]);
      expect(await store.leastRecentlyVerified(10, T + 20, new Set(['post-cn-none0001']))).toEqual([]);
    });
  });
}
