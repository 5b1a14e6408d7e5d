import pino, { type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

/**
 * JSON logs. Credentials never reach them: known secret-bearing fields are redacted wherever they
 * appear, and nothing in this service logs request headers or upstream request bodies.
 */
export const REDACTED_PATHS = [
  'accessKeySecret',
  'securityToken',
  'authorization',
  'apiKey',
  'bearer',
  'token',
  '*.accessKeySecret',
  '*.securityToken',
  '*.authorization',
  '*.apiKey',
  '*.bearer',
  '*.token',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
];

/** LOG_FORMAT: `json` lines for a collector, `pretty` lines for a person, `auto`: pretty when stdout is a terminal. */
export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * The one logger of a process, the service's and the local instance's alike (`name` tells them
 * apart): same fields, same ISO time, same redaction.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, name?: string): Logger {
  return pino(
    {
      level,
      base: { service: 'presence-graph', ...(name && { name }) },
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/**
 * Where a process writes its log lines, synchronously (so a start failure's line is out before the
 * process exits, and lines keep their order with what the process prints): stdout as JSON lines, or
 * through pino-pretty (in this process, no worker thread) for a person at a terminal.
 */
export function logDestination(format: LogFormat, terminal = process.stdout.isTTY === true): pino.DestinationStream {
  if (!prettyLogs(format, terminal)) return pino.destination({ fd: 1, sync: true });
  return pinoPretty({
    destination: 1,
    sync: true,
    colorize: terminal,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
  });
}

/** Whether LOG_FORMAT makes lines for a person: `pretty`, or `auto` at a terminal. */
export function prettyLogs(format: LogFormat, terminal = process.stdout.isTTY === true): boolean {
  return format === 'pretty' || (format === 'auto' && terminal);
}

export type { Logger };
