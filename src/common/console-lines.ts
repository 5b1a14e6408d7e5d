import { format } from 'node:util';
import type { Logger } from './logger';

/**
 * Libraries that print with console.* (ioredis: "[WARN] Redis server does not require a password,
 * but a password was supplied.") would put plain lines between the JSON ones. A process entry point
 * routes them into its logger instead, `from: console`, in our words when `ourWords` knows the line.
 */
export function routeConsoleToLogger(logger: Logger, ourWords: (line: string) => string | undefined = () => undefined): void {
  const route =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]): void => {
      const line = format(...args);
      const ours = ourWords(line);
      if (ours !== undefined) logger.warn(ours);
      else logger[level]({ from: 'console' }, line.slice(0, 2000));
    };
  console.debug = route('debug');
  console.log = route('info');
  console.info = route('info');
  console.warn = route('warn');
  console.error = route('error');
}
