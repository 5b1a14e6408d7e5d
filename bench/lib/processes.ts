import { fork, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { ChildMessage, ProcessStats } from './ipc';

/** A server under test running in its own process, driven over IPC (ipc.ts). */
export interface ServerProcess<Info = Record<string, unknown>> {
  readonly name: string;
  readonly info: Info;
  readonly pid: number;
  command<T = unknown>(name: string, args?: unknown): Promise<T>;
  stats(args?: { gc?: boolean; resetLoopDelay?: boolean }): Promise<ProcessStats>;
  /** Asks the child to stop cleanly; kills it (by its pid) if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Shown in errors and logs. */
  name: string;
  /**
   * The child's whole environment, nothing inherited: the service reads its configuration from it, and
   * an engineer's shell may hold REDIS_URL, PORT or PRESENCE_* values that must not leak into a scenario.
   */
  env: Record<string, string>;
  /** Node flags, e.g. --cpu-prof, --expose-gc. */
  execArgv?: string[];
  startTimeoutMs?: number;
}

/** Where the compiled server scripts live: next to this file, in dist/bench/. */
export const BENCH_DIST = join(__dirname, '..');

/**
 * Forks `script` (relative to dist/bench/, or absolute) and resolves once it reports `ready`. Its stdout (logs)
 * is kept in a small ring buffer and shown only if it fails; stderr passes through.
 */
export function startServer<Info = Record<string, unknown>>(script: string, options: StartOptions): Promise<ServerProcess<Info>> {
  const child = fork(resolve(BENCH_DIST, script), [], {
    env: options.env,
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const tail: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    tail.push(chunk);
    if (tail.length > 50) tail.shift();
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then((code) => {
    for (const { reject } of waiting.values()) reject(new Error(`${options.name} exited (code ${code}) during a command`));
    waiting.clear();
  });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name} did not start within ${options.startTimeoutMs ?? 30000} ms\n${tail.join('')}`));
    }, options.startTimeoutMs ?? 30000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited with code ${code} before it was ready\n${tail.join('')}`));
    });
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'reply') {
        const pending = waiting.get(message.id);
        waiting.delete(message.id);
        if (message.ok) pending?.resolve(message.result);
        else pending?.reject(new Error(`${options.name}: ${message.error}`));
        return;
      }
      clearTimeout(timer);
      resolve(serverProcess(child, options.name, message.info as Info));
    });
  });

  function serverProcess(proc: ChildProcess, name: string, info: Info): ServerProcess<Info> {
    const command = <T>(commandName: string, args?: unknown) =>
      new Promise<T>((resolveCommand, rejectCommand) => {
        const id = nextId++;
        waiting.set(id, { resolve: resolveCommand as (value: unknown) => void, reject: rejectCommand });
        proc.send({ type: 'command', id, name: commandName, args });
      });
    let stopping: Promise<void> | undefined;
    return {
      name,
      info,
      pid: proc.pid!,
      command,
      stats: (args) => command<ProcessStats>('stats', args),
      stop: (graceMs = 10_000) =>
        (stopping ??= (async () => {
          if (proc.exitCode !== null || proc.signalCode !== null) return;
          const killer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
          command('stop').catch(() => undefined);
          await exited;
          clearTimeout(killer);
        })()),
    };
  }
}

/** Stops every server given, in parallel, ignoring the ones already gone. */
export async function stopAll(servers: Array<ServerProcess<unknown> | undefined>): Promise<void> {
  await Promise.all(servers.map((server) => server?.stop()));
}
