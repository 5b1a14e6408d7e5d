import { ChannelRule, EMPTY_DEVICE_STATE, type DeviceState } from '../../../../src/presence/status-notices/channel-rule';
import type { StatusNotice } from '../../../../src/presence/status-notices/status-notice';
import { notice, randomHistory, redeliveredShuffled, seededRandom } from './notice-histories';

const T = 1_700_000_000_000;
const rule = new ChannelRule({ batchLagMs: 10_000, maxChannelsPerDevice: 4, tombstoneRetentionMs: 30 * 60_000 });

function apply(notices: readonly StatusNotice[], state: DeviceState = EMPTY_DEVICE_STATE, using = rule): DeviceState {
  return notices.reduce((held, next) => using.applyNotice(held, next), state);
}

const online = (state: DeviceState) => rule.status(state)?.online;

describe('ChannelRule (Alibaba: a channel is online from its connect until its end; a client while any channel is)', () => {
  it('knows nothing of a device before its first notice', () => {
    expect(rule.status(EMPTY_DEVICE_STATE)).toBeUndefined();
  });

  it('puts a device online at its connect and offline at its tcpclean, decided by those notices', () => {
    const connected = apply([notice('connect', 'a', T)]);
    expect(rule.status(connected)).toEqual({ online: true, decidedBy: 'notice', decidedAtMs: T });
    expect(rule.status(apply([notice('tcpclean', 'a', T + 50)], connected))).toEqual({ online: false, decidedBy: 'notice', decidedAtMs: T + 50 });
  });

  it('ends a channel at its disconnect, which is only sent on an MQTT DISCONNECT before the connection ends', () => {
    expect(online(apply([notice('connect', 'a', T), notice('disconnect', 'a', T + 5)]))).toBe(false);
  });

  it('keeps a channel whose tcpclean came first as a tombstone: its late connect does not bring the device online', () => {
    expect(online(apply([notice('tcpclean', 'a', T + 5), notice('connect', 'a', T)]))).toBe(false);
  });

  it('keeps a device online through a takeover: the second connect comes before the first tcpclean', () => {
    const takenOver = apply([notice('connect', 'a', T), notice('connect', 'b', T + 100)]);
    expect(online(takenOver)).toBe(true);
    expect(rule.status(apply([notice('tcpclean', 'a', T + 101)], takenOver))).toEqual({ online: true, decidedBy: 'notice', decidedAtMs: T + 100 });
    expect(online(apply([notice('tcpclean', 'b', T + 200), notice('tcpclean', 'a', T + 101)], takenOver))).toBe(false);
  });

  it('returns the very same state for a redelivered notice, so the table can tell a duplicate', () => {
    const state = apply([notice('connect', 'a', T), notice('tcpclean', 'a', T + 5)]);
    expect(rule.applyNotice(state, notice('connect', 'a', T))).toBe(state);
    expect(rule.applyNotice(state, notice('tcpclean', 'a', T + 5))).toBe(state);
  });

  it('remembers at most maxChannelsPerDevice channels, forgetting the oldest finished ones first', () => {
    const flapping = Array.from({ length: 10 }, (_, i) => [notice('connect', `c${i}`, T + i * 10), notice('tcpclean', `c${i}`, T + i * 10 + 5)]).flat();
    const state = apply([...flapping, notice('connect', 'now', T + 200)]);
    expect(state.channels).toHaveLength(4);
    expect(online(state)).toBe(true);
    // Every notice of a forgotten channel is at or before the floor, so its late connect is ignored.
    expect(rule.applyNotice(state, notice('connect', 'c0', T))).toBe(state);
  });

  it('forgets a tombstone tombstoneRetentionMs after the newest notice, and still ignores its late connect', () => {
    const finished = apply([notice('connect', 'a', T), notice('tcpclean', 'a', T + 5)]);
    const later = apply([notice('connect', 'b', T + 31 * 60_000)], finished);
    expect(later.channels).toHaveLength(1);
    expect(rule.status(apply([notice('connect', 'a', T)], later))).toEqual({ online: true, decidedBy: 'notice', decidedAtMs: T + 31 * 60_000 });
    expect(online(apply([notice('tcpclean', 'b', T + 32 * 60_000), notice('connect', 'a', T)], later))).toBe(false);
  });

  describe('batch answers (BatchQuerySessionByClientIds, which may lag batchLagMs)', () => {
    it('seeds a device the notices never mentioned, either way', () => {
      expect(rule.status(rule.applyBatchAnswer(EMPTY_DEVICE_STATE, true, T))).toEqual({ online: true, decidedBy: 'batch', decidedAtMs: T });
      expect(rule.status(rule.applyBatchAnswer(EMPTY_DEVICE_STATE, false, T))).toEqual({ online: false, decidedBy: 'batch', decidedAtMs: T });
    });

    it('closes an open channel whose tcpclean was lost when an answer says offline, batchLagMs after its connect', () => {
      const open = apply([notice('connect', 'a', T)]);
      expect(rule.status(rule.applyBatchAnswer(open, false, T + 10_000))).toEqual({ online: false, decidedBy: 'batch', decidedAtMs: T + 10_000 });
    });

    it('never overrides a connect younger than batchLagMs at the time the answer was asked', () => {
      const open = apply([notice('connect', 'a', T)]);
      expect(rule.status(rule.applyBatchAnswer(open, false, T + 9_999))).toEqual({ online: true, decidedBy: 'notice', decidedAtMs: T });
    });

    it('marks a device online by batch when no channel is open, until a notice newer than checkedAt − batchLagMs', () => {
      const closed = apply([notice('connect', 'a', T), notice('tcpclean', 'a', T + 5)]);
      const marked = rule.applyBatchAnswer(closed, true, T + 60_000);
      expect(rule.status(marked)).toEqual({ online: true, decidedBy: 'batch', decidedAtMs: T + 60_000 });
      // An old notice redelivered (at or before checkedAt − lag) changes nothing.
      expect(online(apply([notice('disconnect', 'a', T + 4)], marked))).toBe(true);
      // The tcpclean of the channel the batch saw (unknown to us) ends it.
      expect(rule.status(apply([notice('tcpclean', 'x', T + 70_000)], marked))).toEqual({ online: false, decidedBy: 'notice', decidedAtMs: T + 70_000 });
      // A notice younger than the lag is a fact the batch cache may not have seen: the channels decide.
      expect(online(apply([notice('tcpclean', 'y', T + 55_000)], marked))).toBe(false);
      expect(online(apply([notice('connect', 'z', T + 61_000)], marked))).toBe(true);
    });

    it('ignores an online answer a notice younger than batchLagMs contradicts, and an answer older than a later one', () => {
      const justLeft = apply([notice('connect', 'a', T), notice('tcpclean', 'a', T + 1000)]);
      expect(online(rule.applyBatchAnswer(justLeft, true, T + 5000))).toBe(false);
      const offlineLater = rule.applyBatchAnswer(EMPTY_DEVICE_STATE, false, T + 2);
      expect(online(rule.applyBatchAnswer(offlineLater, true, T + 1))).toBe(false);
    });
  });

  describe('order independence (model-based)', () => {
    it('gives every shuffled, redelivered history the status of its notices applied once in time order, and the truth', () => {
      const random = seededRandom(20_240_611);
      let wrong = 0;
      let compared = 0;
      for (let round = 0; round < 3000; round++) {
        const history = randomHistory(random, 7);
        const inOrder = apply(history.notices);
        expect(online(inOrder)).toBe(history.online);
        for (let shuffle = 0; shuffle < 3; shuffle++) {
          const state = apply(redeliveredShuffled(random, history.notices));
          compared++;
          if (online(state) !== history.online) wrong++;
          // Exact, not only the status: with at most maxChannelsPerDevice channels nothing is forgotten.
          if (history.notices.length <= 8 && new Set(history.notices.map((n) => n.channelId)).size <= 4) expect(state).toEqual(inOrder);
        }
      }
      expect({ compared, wrong }).toEqual({ compared: 9000, wrong: 0 });
    });

    it('gives one state for any order of notices and batch answers mixed, since every fact is joined, never overwritten', () => {
      const random = seededRandom(7);
      const loose = new ChannelRule({ batchLagMs: 3000, maxChannelsPerDevice: 16 });
      for (let round = 0; round < 1000; round++) {
        const history = randomHistory(random, 4);
        const end = history.notices[history.notices.length - 1].timeMs;
        type Input = StatusNotice | { online: boolean; checkedAtMs: number };
        const answers: Input[] = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
          online: random() < 0.5,
          checkedAtMs: T + Math.floor(random() * (end - T + 20_000)),
        }));
        const inputs: Input[] = [...history.notices, ...answers];
        const run = (order: Input[]) =>
          order.reduce((state, input) => ('eventType' in input ? loose.applyNotice(state, input) : loose.applyBatchAnswer(state, input.online, input.checkedAtMs)), EMPTY_DEVICE_STATE);
        const reference = run(inputs);
        expect(run(redeliveredShuffled(random, inputs))).toEqual(reference);
      }
    });
  });

  it('rejects bad options with a message naming the option', () => {
    expect(() => new ChannelRule({ maxChannelsPerDevice: 1 })).toThrow('ChannelRule: maxChannelsPerDevice must be a whole number ≥ 2; got 1');
    expect(() => new ChannelRule({ batchLagMs: -1 })).toThrow(/batchLagMs/);
    expect(() => new ChannelRule({ tombstoneRetentionMs: 0 })).toThrow(/tombstoneRetentionMs/);
  });
});
