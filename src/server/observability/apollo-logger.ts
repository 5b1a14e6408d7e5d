import type { Logger } from '../../common/logger';

/** The logger Apollo Server accepts (@apollo/utils.logger's, which is not a dependency of ours). */
interface ApolloLogger {
  debug(message?: unknown): void;
  info(message?: unknown): void;
  warn(message?: unknown): void;
  error(message?: unknown): void;
}

/**
 * Apollo Server's log lines into ours, marked `component: apollo`. Its `info` lines describe what
 * this service configured on purpose ("Enabling inline tracing for this subgraph", at every start):
 * debug here. Its warnings and errors keep their level; an Error it passes is logged as `err`.
 */
export function apolloLogger(logger: Logger): ApolloLogger {
  const apollo = logger.child({ component: 'apollo' });
  const line = (write: (obj: object, msg?: string) => void) => (message?: unknown) => {
    if (message instanceof Error) write({ err: message }, message.message);
    else write({}, String(message));
  };
  return {
    debug: line((obj, msg) => apollo.debug(obj, msg)),
    info: line((obj, msg) => apollo.debug(obj, msg)),
    warn: line((obj, msg) => apollo.warn(obj, msg)),
    error: line((obj, msg) => apollo.error(obj, msg)),
  };
}
