import pino, { type Logger } from 'pino';

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

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'presence-graph' },
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
