import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/common/logger';

/** The service's own logger writing into memory, so a test can read what an operator would see. */
export function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('debug', sink), lines };
}

/** Log lines (JSON, as written) whose `msg` contains `text`. */
export function linesSaying(lines: readonly string[], text: string): Array<{ level: number; msg: string } & Record<string, unknown>> {
  return lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((entry) => entry.msg.includes(text));
}
