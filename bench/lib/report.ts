/** What a scenario hands back to the orchestrator, which writes BENCHMARKS.md from it. */

export interface Goal {
  /** The goal as the issue states it. */
  goal: string;
  /** The figure measured, with its unit. */
  measured: string;
  /** null: not measured in this run (scenario skipped or failed). */
  met: boolean | null;
}

export interface ScenarioReport {
  title: string;
  /** Markdown: what was run, its baseline, tables of figures, remarks. */
  markdown: string;
  goals: Goal[];
}

/** Knobs of one run (env or flags; defaults keep `npm run bench` under about 6 minutes). */
export interface BenchContext {
  /** Seconds per measured round in A/B comparisons. */
  roundSeconds: number;
  /** A/B rounds per comparison (the median is reported). */
  rounds: number;
  /** Seconds of each fresh-lookup (quota saturation) run. */
  saturationSeconds: number;
  /** Seconds of each packing run. */
  packingSeconds: number;
  soakMs: number;
  soakRatePerSecond: number;
  /** The emulator's fixed added round trip in the latency scenario. */
  rttMs: number;
  /** Redis for the two-replica scenario (keys under a prefix of the run's own). */
  redisUrl: string;
  log(message: string): void;
}

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.map(String).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export function verdict(met: boolean | null): string {
  if (met === null) return 'not measured';
  return met ? 'met' : '**missed**';
}
