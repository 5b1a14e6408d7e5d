import { MemoryBudgetStore } from '../../../../src/presence/budget';
import { batchShareBudgets, BudgetShare } from '../../../../src/presence/budget-share';
import { GroupPresence } from '../../../../src/presence/status-notices/group-presence';
import { MemoryPresenceTable } from '../../../../src/presence/status-notices/memory-presence-table';
import { NoticeTrust } from '../../../../src/presence/status-notices/notice-trust';
import { MemoryChangeFeed } from '../../../../src/presence/status-notices/presence-change-feed';
import type { PresenceChange } from '../../../../src/presence/status-notices/presence-table';
import { TableVerifier } from '../../../../src/presence/status-notices/table-verifier';
import { FakeSessionApi, INSTANCE } from '../fake-session-api';

const device = (n: number) => ({ instanceId: INSTANCE, clientId: `GID_fleet@@@truck-${n}` });
const LAG_MS = 5_000;

function setUp(options: { share?: number; batchQps?: number; onError?: (error: unknown) => void } = {}) {
  let now = 100_000;
  const clock = () => now;
  const table = new MemoryPresenceTable({ batchLagMs: LAG_MS });
  const feed = new MemoryChangeFeed();
  const api = new FakeSessionApi();
  const store = new MemoryBudgetStore({ now: clock });
  const budgets = batchShareBudgets(store, { name: 'verifier', batchQps: options.batchQps ?? 100, share: options.share ?? 0.1, maxCallMs: 1000 });
  const verified: Array<[number, number]> = [];
  const verifier = new TableVerifier({
    api,
    table,
    feed,
    share: new BudgetShare(budgets.accountBudget, budgets.shareBudget, { now: clock }),
    callsPerRound: budgets.shareBudget.limitPerSecond,
    batchLagMs: LAG_MS,
    minAgeMs: 60_000,
    refillIntervalMs: 0,
    noticeObserver: { notice: () => undefined, noticeLagMs: () => undefined, verified: (checked, disagreed) => verified.push([checked, disagreed]) },
    onError: options.onError,
    now: clock,
  });
  return { table, feed, api, verifier, verified, budgets, advance: (ms: number) => (now += ms), clock };
}

async function connectAll(table: MemoryPresenceTable, count: number, atMs: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    await table.applyNotice(INSTANCE, { clientId: device(n).clientId, groupId: 'GID_fleet', eventType: 'connect', channelId: `ch-${n}`, timeMs: atMs }, atMs);
  }
}

describe('TableVerifier', () => {
  it('re-checks nothing noticed within STATUS_NOTICES_VERIFY_MIN_AGE_MS', async () => {
    const { table, api, verifier, clock } = setUp();
    await connectAll(table, 5, clock());
    await verifier.round();
    expect(api.calls).toEqual([]);
  });

  it('re-checks the least recently verified devices, 10 per call, and stops at its share of the budget', async () => {
    const { table, api, verifier, advance, clock, budgets } = setUp({ share: 0.02 });
    await connectAll(table, 50, clock());
    advance(120_000);
    await verifier.round();
    // 2 % of 100 calls per second: 2 calls this round, 10 IDs each.
    expect(budgets.shareBudget.limitPerSecond).toBe(2);
    expect(api.calls.map((ids) => ids.length)).toEqual([10, 10]);
  });

  it('repairs a status the notices got wrong (a lost tcpclean), counts the disagreement, and tells the change feed', async () => {
    const { table, api, verifier, advance, clock, feed, verified } = setUp();
    await connectAll(table, 3, clock());
    advance(120_000);
    const changes: PresenceChange[] = [];
    feed.subscribe((change) => changes.push(change));
    api.answerBatch = (ids) => ({ requestId: 'r', statuses: new Map(ids.map((id) => [id, id !== device(1).clientId])) });
    await verifier.round();
    expect(verified).toEqual([[3, 1]]);
    expect((await table.getMany([device(1)]))[0]).toMatchObject({ online: false, decidedBy: 'batch' });
    expect(changes).toEqual([expect.objectContaining({ key: device(1), online: false })]);
  });

  it('keeps going after an upstream failure, reports it, and leaves the table as it was', async () => {
    const errors: unknown[] = [];
    const { table, api, verifier, advance, clock } = setUp({ onError: (error) => errors.push(error) });
    await connectAll(table, 1, clock());
    advance(120_000);
    api.answerBatch = () => {
      throw new Error('connection reset');
    };
    await verifier.round();
    expect(errors).toHaveLength(1);
    expect((await table.getMany([device(0)]))[0]).toMatchObject({ online: true });
  });
});

describe('GroupPresence', () => {
  it('counts and lists a group from the table, and is complete only once every known device has evidence since trust began', async () => {
    const table = new MemoryPresenceTable({ batchLagMs: LAG_MS });
    const trust = new NoticeTrust({ maxGapMs: 1_000 });
    const groups = new GroupPresence(table, trust);
    const at = Date.now();
    await connectAll(table, 3, at - 10_000);
    trust.connected(at - 5_000);
    expect(await groups.summary(INSTANCE, 'GID_fleet')).toEqual({ online: 3, known: 3, complete: false });
    await connectAll(table, 3, at);
    expect(await groups.summary(INSTANCE, 'GID_fleet')).toEqual({ online: 3, known: 3, complete: true });
    const page = await groups.onlinePage(INSTANCE, 'GID_fleet', 2);
    expect(page).toMatchObject({ clientIds: [device(0).clientId, device(1).clientId], hasNextPage: true, totalCount: 3 });
    const next = await groups.onlinePage(INSTANCE, 'GID_fleet', 2, page.cursors[1]);
    expect(next).toMatchObject({ clientIds: [device(2).clientId], hasNextPage: false });
  });

  it('refuses the groups of an instance whose notices nobody consumes, instead of reading them as empty', async () => {
    const table = new MemoryPresenceTable({ batchLagMs: LAG_MS });
    await connectAll(table, 2, Date.now());
    const noticed = new NoticeTrust({ maxGapMs: 1_000 });
    const groups = new GroupPresence(table, (instanceId) => (instanceId === INSTANCE ? noticed : undefined));
    await expect(groups.summary(INSTANCE, 'GID_fleet')).resolves.toMatchObject({ online: 2, known: 2 });
    await expect(groups.summary('post-cn-other001', 'GID_fleet')).rejects.toMatchObject({ code: 'STATUS_NOTICES_OFF', message: expect.stringContaining('"post-cn-other001" has none configured') });
    await expect(groups.onlinePage('post-cn-other001', 'GID_fleet', 10)).rejects.toMatchObject({ code: 'STATUS_NOTICES_OFF' });
  });

  it('refuses a malformed Group ID and a page size out of range', async () => {
    const groups = new GroupPresence(new MemoryPresenceTable(), new NoticeTrust({ maxGapMs: 0 }));
    await expect(groups.summary(INSTANCE, 'fleet')).rejects.toThrow(/Group ID "fleet" is not valid/);
    await expect(groups.onlinePage(INSTANCE, 'GID_fleet', 0)).rejects.toThrow(/first must be a whole number from 1 to 1000/);
  });
});
