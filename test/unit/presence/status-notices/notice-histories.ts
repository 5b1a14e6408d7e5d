import type { StatusNotice, StatusNoticeEvent } from '../../../../src/presence/status-notices/status-notice';

/**
 * Random but physically possible notice histories of one device, for property tests: channels one
 * after another, each ended by DISCONNECT (disconnect + tcpclean), by a drop (tcpclean alone) or by a
 * takeover (the next channel's connect before this one's tcpclean); the last one may stay open.
 */

/** A small seeded PRNG (mulberry32): a failing seed can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function notice(eventType: StatusNoticeEvent, channelId: string, timeMs: number, clientId = 'GID_test@@@dev1'): StatusNotice {
  return { clientId, groupId: clientId.split('@@@')[0], eventType, channelId, timeMs };
}

export interface History {
  /** In time order, each once. */
  notices: StatusNotice[];
  /** Whether the device is online once all of them happened: some channel connected and not ended. */
  online: boolean;
}

export function randomHistory(random: () => number, maxChannels: number, startMs = 1_700_000_000_000, clientId?: string): History {
  const notices: StatusNotice[] = [];
  const channels = 1 + Math.floor(random() * maxChannels);
  let t = startMs;
  let online = false;
  const step = () => (t += 1 + Math.floor(random() * 5000));
  let pendingTcpclean: string | undefined;
  for (let c = 0; c < channels; c++) {
    const id = `ch-${c}-${Math.floor(random() * 1e9)}`;
    notices.push(notice('connect', id, step(), clientId));
    if (pendingTcpclean) notices.push(notice('tcpclean', pendingTcpclean, step(), clientId));
    pendingTcpclean = undefined;
    const last = c === channels - 1;
    const ending = random();
    if (last && ending < 0.4) {
      online = true;
    } else if (ending < 0.6 && !last) {
      pendingTcpclean = id; // taken over by the next channel
    } else if (ending < 0.8) {
      notices.push(notice('disconnect', id, step(), clientId), notice('tcpclean', id, step(), clientId));
    } else {
      notices.push(notice('tcpclean', id, step(), clientId));
    }
  }
  return { notices, online };
}

/** Every notice 1 to 3 times, shuffled (Fisher–Yates). */
export function redeliveredShuffled<T>(random: () => number, items: readonly T[]): T[] {
  const copies = items.flatMap((item) => Array.from({ length: 1 + Math.floor(random() * 3) }, () => item));
  for (let i = copies.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copies[i], copies[j]] = [copies[j], copies[i]];
  }
  return copies;
}
