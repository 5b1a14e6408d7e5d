import { MemoryPresenceTable } from '../../../../src/presence/status-notices/memory-presence-table';
import { notice } from './notice-histories';
import { presenceTableContract } from './presence-table-contract';

const T = 1_700_000_000_000;

describe('MemoryPresenceTable', () => {
  describe('the presence table contract', () => {
    presenceTableContract((options) => new MemoryPresenceTable(options));
  });

  it('answers at once from getNow what getMany answers', async () => {
    const table = new MemoryPresenceTable();
    await table.applyNotice('inst', notice('connect', 'a', T, 'GID_mem@@@d1'), T);
    expect(table.getNow({ instanceId: 'inst', clientId: 'GID_mem@@@d1' })).toEqual((await table.getMany([{ instanceId: 'inst', clientId: 'GID_mem@@@d1' }]))[0]);
  });

  it('answers a read with the entry made when the record was stored, a new one only once the record changes', async () => {
    const table = new MemoryPresenceTable();
    const key = () => ({ instanceId: 'inst', clientId: 'GID_mem@@@d1' });
    await table.applyNotice('inst', notice('connect', 'a', T, 'GID_mem@@@d1'), T);
    const first = table.getNow(key());
    // A new key object with the same value, as every request makes: the same entry, nothing recomputed.
    expect(table.getNow(key())).toBe(first);
    await table.applyNotice('inst', notice('tcpclean', 'a', T + 1, 'GID_mem@@@d1'), T + 1);
    expect(table.getNow(key())).not.toBe(first);
    expect(table.getNow(key())).toEqual({ online: false, decidedAtMs: T + 1, decidedBy: 'notice', evidenceAtMs: T + 1 });
  });

  it('forgets the device with the oldest evidence beyond maxDevices, which then reads as unknown and leaves the counts', async () => {
    const table = new MemoryPresenceTable({ maxDevices: 2 });
    for (const [i, name] of ['first', 'second', 'third'].entries()) {
      await table.applyNotice('inst', notice('connect', name, T + i, `GID_mem@@@${name}`), T + i);
    }
    const keys = ['first', 'second', 'third'].map((name) => ({ instanceId: 'inst', clientId: `GID_mem@@@${name}` }));
    expect((await table.getMany(keys)).map((entry) => entry?.online)).toEqual([undefined, true, true]);
    expect(await table.countGroup('inst', 'GID_mem')).toEqual({ online: 2, known: 2 });
  });

  it('rejects bad options with a message naming the option', () => {
    expect(() => new MemoryPresenceTable({ maxDevices: 0 })).toThrow('MemoryPresenceTable: maxDevices must be a whole number ≥ 1; got 0');
    expect(() => new MemoryPresenceTable({ maxNoticeAheadMs: -1 })).toThrow(/maxNoticeAheadMs/);
  });
});
