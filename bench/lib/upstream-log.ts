import type { CompactCall } from '../servers/local-instance-host';
import { median } from './stats';

export interface UpstreamFigures {
  windowSeconds: number;
  /** Calls answered 200 inside the window. */
  okCalls: number;
  /** Client IDs answered by those calls: fresh lookups. */
  lookups: number;
  lookupsPerSecond: number;
  callsPerSecond: number;
  meanIdsPerCall: number;
  /** Lookups in each whole second of the window. */
  perSecond: { min: number; median: number; max: number };
  /** The most calls (any outcome) the emulator received in any rolling 1000 ms of the whole log. */
  maxCallsInRollingSecond: number;
  /** Calls the emulator refused, by error Code (SystemOverFlow: over its 100/s). */
  refused: Record<string, number>;
}

/**
 * Reads the emulator's log of one run: the figures of the steady window [fromMs, toMs) (ramp-up and
 * tail left out), and the account-limit checks over every call.
 */
export function analyseCalls(calls: readonly CompactCall[], fromMs: number, toMs: number): UpstreamFigures {
  // Whole seconds only: a sliding 100-per-second limit admits 100 calls in every second, so a window
  // of 4.5 s may hold 5 bursts of 100, and its average would overstate the rate.
  const windowSeconds = Math.floor((toMs - fromMs) / 1000);
  const endMs = fromMs + windowSeconds * 1000;
  const inWindow = calls.filter(([at, , code]) => code === 'ok' && at >= fromMs && at < endMs);
  const lookups = inWindow.reduce((n, [, ids]) => n + ids, 0);
  const buckets = new Array<number>(Math.max(windowSeconds, 0)).fill(0);
  for (const [at, ids] of inWindow) buckets[Math.floor((at - fromMs) / 1000)] += ids;
  const refused: Record<string, number> = {};
  for (const [, , code] of calls) if (code !== 'ok') refused[code] = (refused[code] ?? 0) + 1;
  return {
    windowSeconds,
    okCalls: inWindow.length,
    lookups,
    lookupsPerSecond: lookups / windowSeconds,
    callsPerSecond: inWindow.length / windowSeconds,
    meanIdsPerCall: inWindow.length === 0 ? NaN : lookups / inWindow.length,
    perSecond: { min: Math.min(...buckets), median: median(buckets), max: Math.max(...buckets) },
    maxCallsInRollingSecond: maxInRollingWindow(calls.map(([at]) => at), 1000),
    refused,
  };
}

function maxInRollingWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let head = 0, tail = 0; head < sorted.length; head++) {
    while (sorted[head] - sorted[tail] >= windowMs) tail++;
    best = Math.max(best, head - tail + 1);
  }
  return best;
}

export function formatCodes(codes: Record<string, number>): string {
  const entries = Object.entries(codes);
  return entries.length === 0 ? 'none' : entries.map(([code, n]) => `${code} × ${n}`).join(', ');
}
