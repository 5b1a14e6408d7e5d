import { MemoryPresenceTable } from '../../../../src/presence/status-notices/memory-presence-table';
import { NoticeBackedLookup } from '../../../../src/presence/status-notices/notice-backed-lookup';
import type { NoticeObserver } from '../../../../src/presence/status-notices/notice-observer';
import { NoticeTrust } from '../../../../src/presence/status-notices/notice-trust';
import { NoticeWatch } from '../../../../src/presence/status-notices/notice-watch';
import { MemoryChangeFeed } from '../../../../src/presence/status-notices/presence-change-feed';
import type { PresenceChange } from '../../../../src/presence/presence-watch';
import { StatusNoticeSink } from '../../../../src/presence/status-notices/status-notice-sink';
import type { PresenceKey, PresenceStatus } from '../../../../src/presence/types';
import { FakeSessionApi, INSTANCE, dispatcherFor } from '../fake-session-api';
import { waitFor } from '../../../support/wait-for';

const device = (n: number): PresenceKey => ({ instanceId: INSTANCE, clientId: `GID_fleet@@@truck-${n}` });
const notice = (n: number, eventType: string, channelId: string, time: number) =>
  JSON.stringify({ clientId: device(n).clientId, eventType, channelId, clientIp: '10.0.0.1', time });

function pipeline(options: { groups?: string[]; trusted?: boolean } = {}) {
  const table = new MemoryPresenceTable({ batchLagMs: 5_000 });
  const feed = new MemoryChangeFeed();
  const trust = new NoticeTrust({ maxGapMs: 10_000 });
  if (options.trusted ?? true) trust.connected(0);
  const counted: Array<[string, string]> = [];
  const observer: NoticeObserver = { notice: (event, outcome) => counted.push([event, outcome]), noticeLagMs: () => undefined, verified: () => undefined };
  const refused: string[] = [];
  const sink = new StatusNoticeSink({ instanceId: INSTANCE, groups: options.groups ?? [], table, feed, observer, onRefused: (reason) => refused.push(reason) });
  const api = new FakeSessionApi();
  const lookup = new NoticeBackedLookup({ dispatcher: dispatcherFor(api), table, trust, feed });
  return { table, feed, trust, sink, api, lookup, counted, refused };
}

describe('StatusNoticeSink', () => {
  it('applies a notice to the table and tells the change feed when the device comes online', async () => {
    const { sink, feed, table, counted } = pipeline();
    const changes: unknown[] = [];
    feed.subscribe((change) => changes.push(change));
    await expect(sink.accept(notice(1, 'connect', 'ch-1', Date.now()))).resolves.toBe('applied');
    expect((await table.getMany([device(1)]))[0]).toMatchObject({ online: true, decidedBy: 'notice' });
    expect(changes).toEqual([expect.objectContaining({ key: device(1), online: true })]);
    expect(counted).toEqual([['connect', 'applied']]);
  });

  it('counts a redelivered notice as a duplicate and tells nobody', async () => {
    const { sink, feed } = pipeline();
    const changes: unknown[] = [];
    feed.subscribe((change) => changes.push(change));
    const body = notice(1, 'connect', 'ch-1', Date.now());
    await sink.accept(body);
    await expect(sink.accept(body)).resolves.toBe('duplicate');
    expect(changes).toHaveLength(1);
  });

  it('acks a malformed notice without changing anything, and reports why', async () => {
    const { sink, table, counted, refused } = pipeline();
    for (const bad of ['not json', JSON.stringify({ clientId: 'nope', eventType: 'connect', channelId: 'c', time: 1 }), notice(1, 'reboot', 'c', 1)]) {
      await expect(sink.accept(bad)).resolves.toBe('malformed');
    }
    expect(counted.every(([event, outcome]) => event === 'unknown' && outcome === 'malformed')).toBe(true);
    expect(refused).toHaveLength(3);
    expect(await table.countGroup(INSTANCE, 'GID_fleet')).toEqual({ online: 0, known: 0 });
  });

  it('ignores the notice of a group it was not configured for (a broker may deliver one on any consume)', async () => {
    const { sink, table } = pipeline({ groups: ['GID_other'] });
    await expect(sink.accept(notice(1, 'connect', 'ch-1', Date.now()))).resolves.toBe('ignored');
    expect(await table.getMany([device(1)])).toEqual([undefined]);
  });

  it('rejects, so the broker redelivers, when the table cannot take the notice', async () => {
    const { sink, table } = pipeline();
    jest.spyOn(table, 'applyNotice').mockRejectedValueOnce(new Error('Redis is away'));
    await expect(sink.accept(notice(1, 'connect', 'ch-1', Date.now()))).rejects.toThrow('Redis is away');
  });
});

describe('NoticeBackedLookup', () => {
  it('answers a device the notices decide from the table, with no upstream call and the notice time as checkedAt', async () => {
    const { sink, lookup, api } = pipeline();
    const at = Date.now() - 1_000;
    await sink.accept(notice(1, 'connect', 'ch-1', at));
    const [status] = (await lookup.lookup([device(1)])) as PresenceStatus[];
    expect(status).toEqual({ online: true, checkedAtMs: at, stale: false, origin: 'events' });
    expect(lookup.cachedNow!(device(1))).toEqual(status);
    expect(api.calls).toEqual([]);
  });

  it('asks the batch action about a device the table does not know, and that answer seeds the table', async () => {
    const { lookup, api, table } = pipeline();
    api.answerBatch = (ids) => ({ requestId: 'r', statuses: new Map(ids.map((id) => [id, false])) });
    const [first] = (await lookup.lookup([device(2)])) as PresenceStatus[];
    expect(first).toMatchObject({ online: false, origin: 'upstream' });
    await waitFor('the batch answer in the table', async () => (await table.getMany([device(2)]))[0] !== undefined);
    const [second] = (await lookup.lookup([device(2)])) as PresenceStatus[];
    expect(second).toMatchObject({ online: false, origin: 'events' });
    expect(api.calls).toEqual([[device(2).clientId]]);
  });

  it('seeds the table even when the change feed cannot publish (Redis away), leaving no unhandled rejection', async () => {
    const { lookup, api, table, feed } = pipeline();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const published = jest.spyOn(feed, 'publish').mockRejectedValue(new Error('Redis is away'));
      api.answerBatch = (ids) => ({ requestId: 'r', statuses: new Map(ids.map((id) => [id, true])) });
      await lookup.lookup([device(3)]);
      await waitFor('the batch answer in the table', async () => (await table.getMany([device(3)]))[0] !== undefined);
      await waitFor('the failed publish', () => published.mock.calls.length === 1);
      // Node reports an unhandled rejection after the microtasks of the tick that made it have run.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('answers through the dispatcher while the notices are not trusted (before the consumer is in, or after a long gap)', async () => {
    const { sink, lookup, api } = pipeline({ trusted: false });
    await sink.accept(notice(1, 'connect', 'ch-1', Date.now()));
    const [status] = (await lookup.lookup([device(1)])) as PresenceStatus[];
    expect(status.origin).toBe('upstream');
    expect(api.calls).toHaveLength(1);
  });

  it('still asks QuerySessionByClientId for exact lookups', async () => {
    const { sink, lookup, api } = pipeline();
    await sink.accept(notice(1, 'connect', 'ch-1', Date.now()));
    await lookup.lookupExact([device(1)]);
    expect(api.exactCalls).toEqual([device(1).clientId]);
  });
});

describe('NoticeWatch', () => {
  it('pushes a device\'s first status, then each change the notices make, with no upstream call', async () => {
    const { sink, lookup, feed, api } = pipeline();
    await sink.accept(notice(1, 'connect', 'ch-1', Date.now() - 10));
    const watch = new NoticeWatch({ instanceId: INSTANCE, feed, lookup });
    const seen: PresenceChange[] = [];
    const unwatch = watch.watch([device(1)], (change) => seen.push(change));
    await waitFor('the first status', () => seen.length === 1);
    await sink.accept(notice(1, 'tcpclean', 'ch-1', Date.now()));
    expect(seen.map(({ online, initial }) => ({ online, initial }))).toEqual([
      { online: true, initial: true },
      { online: false, initial: false },
    ]);
    unwatch();
    await sink.accept(notice(1, 'connect', 'ch-2', Date.now()));
    expect(seen).toHaveLength(2);
    expect(api.calls).toEqual([]);
    watch.close();
  });

  it('refuses keys of an instance whose notices are not consumed, as the source says', () => {
    const { lookup, feed } = pipeline();
    const watch = new NoticeWatch({ instanceId: INSTANCE, feed, lookup, refuseOtherInstance: (other) => new Error(`not ${other}`) });
    expect(() => watch.watch([{ instanceId: 'elsewhere', clientId: device(1).clientId }], () => undefined)).toThrow('not elsewhere');
  });
});
