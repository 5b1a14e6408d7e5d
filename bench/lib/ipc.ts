/**
 * The orchestrator drives every server under test over Node's IPC channel (`child_process.fork`):
 * the child says `ready` once it listens, then answers commands. Servers run in their own processes
 * so the load generator (autocannon, in the orchestrator) never shares their event loop.
 */

/** Sent once by a child when it is serving. */
export interface ReadyMessage {
  type: 'ready';
  info: Record<string, unknown>;
}

export interface CommandMessage {
  type: 'command';
  id: number;
  name: string;
  args?: unknown;
}

export interface ReplyMessage {
  type: 'reply';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export type ChildMessage = ReadyMessage | ReplyMessage;

/** What every server child reports about itself (`stats` command). */
export interface ProcessStats {
  heapUsedBytes: number;
  rssBytes: number;
  /** CPU time (user + system) the process has used since it started, in microseconds. */
  cpuMicros: number;
  /** Event-loop delay since the last reset, in milliseconds. */
  loopDelayMs: { p50: number; p99: number; max: number; mean: number };
}
