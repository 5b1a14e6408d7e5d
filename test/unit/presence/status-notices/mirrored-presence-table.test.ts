import { MemoryPresenceTable } from '../../../../src/presence/status-notices/memory-presence-table';
import { MirroredPresenceTable } from '../../../../src/presence/status-notices/mirrored-presence-table';
import { MemoryChangeFeed } from '../../../../src/presence/status-notices/presence-change-feed';
import type { StatusNotice } from '../../../../src/presence/status-notices/status-notice';

const INSTANCE = 'post-cn-mirror';
const key = { instanceId: INSTANCE, clientId: 'GID_m@@@d1' };
const notice = (eventType: StatusNotice['eventType'], channelId: string, timeMs: number): StatusNotice => ({
  clientId: key.clientId,
  groupId: 'GID_m',
  eventType,
  channelId,
  timeMs,
});

function setUp() {
  let now = 1_000_000;
  const shared = new MemoryPresenceTable();
  // Another replica's writes: straight to the shared table, as seen through the feed only.
  const feed = new MemoryChangeFeed();
  const mirror = new MirroredPresenceTable({ shared, feed, ttlMs: 1000, now: () => now });
  const reads = jest.spyOn(shared, 'getMany');
  return { shared, feed, mirror, reads, advance: (ms: number) => (now += ms) };
}

describe('MirroredPresenceTable', () => {
  it('reads a device from the shared table once, then answers it from this process until ttlMs', async () => {
    const { shared, mirror, reads, advance } = setUp();
    await shared.applyNotice(INSTANCE, notice('connect', 'a', 1), 1);
    expect(mirror.getNow(key)).toBeUndefined();
    expect((await mirror.getMany([key]))[0]).toMatchObject({ online: true });
    expect(mirror.getNow(key)).toMatchObject({ online: true });
    expect((await mirror.getMany([key]))[0]).toMatchObject({ online: true });
    expect(reads).toHaveBeenCalledTimes(1);
    advance(1000);
    expect(mirror.getNow(key)).toBeUndefined();
  });

  it('drops a device that changed on any replica, so the next read is the shared table\'s', async () => {
    const { shared, feed, mirror } = setUp();
    await shared.applyNotice(INSTANCE, notice('connect', 'a', 1), 1);
    await mirror.getMany([key]);
    const result = await shared.applyNotice(INSTANCE, notice('tcpclean', 'a', 2), 2);
    await feed.publish(result.change!);
    expect(mirror.getNow(key)).toBeUndefined();
    expect((await mirror.getMany([key]))[0]).toMatchObject({ online: false });
  });

  it('forgets what it held when this replica writes the device, flip or not', async () => {
    const { mirror } = setUp();
    await mirror.applyNotice(INSTANCE, notice('connect', 'a', 1), 1);
    await mirror.getMany([key]);
    await mirror.applyNotice(INSTANCE, notice('connect', 'b', 5), 5);
    expect(mirror.getNow(key)).toBeUndefined();
    // Read again: what it held said decidedAtMs 1.
    expect((await mirror.getMany([key]))[0]).toMatchObject({ online: true, decidedAtMs: 5 });
  });

  it('reads an entry past half its ttlMs again in the background, once, while still answering it', async () => {
    const { shared, mirror, reads, advance } = setUp();
    await shared.applyNotice(INSTANCE, notice('connect', 'a', 1), 1);
    await mirror.getMany([key]);
    advance(600);
    expect(mirror.getNow(key)).toMatchObject({ online: true });
    expect(mirror.getNow(key)).toMatchObject({ online: true });
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.resolve();
    expect(reads).toHaveBeenCalledTimes(2);
    // Renewed from the background read: good for ttlMs from then, not from the first read.
    advance(900);
    expect(mirror.getNow(key)).toMatchObject({ online: true });
  });

  it('does not keep an answer read before a change that arrived while the read was out', async () => {
    const { shared, feed, mirror } = setUp();
    await shared.applyNotice(INSTANCE, notice('connect', 'a', 1), 1);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const answer = await shared.getMany([key]);
    jest.spyOn(shared, 'getMany').mockImplementationOnce(async () => (await held, answer));
    const reading = mirror.getMany([key]);
    const result = await shared.applyNotice(INSTANCE, notice('tcpclean', 'a', 2), 2);
    await feed.publish(result.change!);
    release();
    expect((await reading)[0]).toMatchObject({ online: true });
    expect(mirror.getNow(key)).toBeUndefined();
  });

  it('lets requests missing the same device at once share one read of the shared table', async () => {
    const { shared, mirror, reads } = setUp();
    await shared.applyNotice(INSTANCE, notice('connect', 'a', 1), 1);
    const answers = await Promise.all([mirror.getMany([key]), mirror.getMany([key]), mirror.getMany([key])]);
    expect(answers.map((a) => a[0]?.online)).toEqual([true, true, true]);
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('keeps at most maxEntries devices, the one read longest ago going first', async () => {
    const shared = new MemoryPresenceTable();
    const mirror = new MirroredPresenceTable({ shared, feed: new MemoryChangeFeed(), maxEntries: 2 });
    const keys = ['d1', 'd2', 'd3'].map((name) => ({ instanceId: INSTANCE, clientId: `GID_m@@@${name}` }));
    for (const k of keys) await shared.applyNotice(INSTANCE, { ...notice('connect', k.clientId, 1), clientId: k.clientId }, 1);
    await mirror.getMany(keys);
    expect(keys.map((k) => mirror.getNow(k) !== undefined)).toEqual([false, true, true]);
  });
});
