import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ChildMessage, CommandMessage, ProcessStats } from './ipc';

const LOOP_DELAY_RESOLUTION_MS = 10;

/** Each handler takes the arguments its command is sent with (`never` here: any handler fits). */
export type CommandHandlers = Record<string, (args: never) => unknown>;

/**
 * The child side of the IPC protocol (ipc.ts): announces `ready` with `info`, then runs commands.
 * Every child answers `stats` (heap, RSS, event-loop delay; `{ gc: true }` collects first when Node
 * runs with --expose-gc, `{ resetLoopDelay: true }` starts a new delay histogram) and `stop`.
 */
export function serveCommands(info: Record<string, unknown>, handlers: CommandHandlers, stop: () => Promise<void>): void {
  // Event-loop delay, sampled by a 10 ms timer (Node's default resolution): what a request waits before
  // its callbacks can run. The histogram holds whole timer intervals, so the delay is the interval
  // less the resolution.
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  loopDelay.enable();
  const send = (message: ChildMessage) => process.send?.(message);

  const all: CommandHandlers = {
    ...handlers,
    stats: (args: { gc?: boolean; resetLoopDelay?: boolean } = {}): ProcessStats => {
      const ms = (ns: number) => Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS);
      const stats: ProcessStats = {
        heapUsedBytes: 0,
        rssBytes: 0,
        cpuMicros: cpuMicros(),
        loopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max), mean: ms(loopDelay.mean) },
      };
      if (args.gc && typeof global.gc === 'function') global.gc();
      const memory = process.memoryUsage();
      stats.heapUsedBytes = memory.heapUsed;
      stats.rssBytes = memory.rss;
      if (args.resetLoopDelay) loopDelay.reset();
      return stats;
    },
    stop: async () => {
      await stop();
      // Replies first, then exits (a --cpu-prof profile is written on exit).
      setImmediate(() => process.exit(0));
    },
  };

  process.on('message', (message: CommandMessage) => {
    if (message?.type !== 'command') return;
    const handler = all[message.name];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${message.name}`);
        return handler(message.args as never);
      })
      .then(
        (result) => send({ type: 'reply', id: message.id, ok: true, result }),
        (error: unknown) => send({ type: 'reply', id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
      );
  });
  // The orchestrator is gone (crashed or killed): do not linger.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', info });
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** For a child's `main().catch(...)`: the orchestrator sees the exit code and the message on stderr. */
export function failStart(what: string): (error: unknown) => never {
  return (error) => {
    process.stderr.write(`${what} failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  };
}
