import type { PresenceError } from '../../presence/errors';
import type { Logger } from '../../common/logger';
import { LogSummary, type LogSummaryOptions } from './log-summary';

interface Seen {
  error: PresenceError;
  operationName: string | undefined;
}

/**
 * Upstream failures for the operator, summarised per kind (our code and the upstream's): the first
 * failure of a kind is written at once with its message, upstream code and RequestId (what Alibaba
 * support asks for), then at most one line per kind per interval with how many failures and requests
 * there were since, and the last RequestId. One failed call fails every key it carried, across
 * requests, with one error object, so `failures` counts distinct errors and `requests` the requests
 * that saw one. An outage at 1,000 requests/s so costs a line every 10 s per kind, not 1,000 a second.
 */
export class UpstreamFailureLog {
  private readonly summary: LogSummary<{ failures: number }, Seen>;
  /** Errors already counted: the same failed call reaches every request that waited on it. */
  private readonly counted = new WeakSet<PresenceError>();

  constructor(logger: Logger, options: LogSummaryOptions = {}) {
    this.summary = new LogSummary((_kind, { failures }, requests, { error, operationName }, immediate) => {
      if (immediate) {
        logger.warn({ code: error.code, upstream: error.upstream, operationName, failures, requests }, error.message);
      } else {
        logger.warn(
          { code: error.code, upstream: error.upstream, failures, requests },
          `upstream failures of this kind since the last line: ${failures} new, in ${requests} requests; the last: ${error.message}`,
        );
      }
    }, options);
  }

  record(error: PresenceError, operationName: string | null | undefined): void {
    const failures = this.counted.has(error) ? 0 : 1;
    this.counted.add(error);
    this.summary.record(`${error.code} ${error.upstream?.code ?? ''}`, { failures }, { error, operationName: operationName ?? undefined });
  }

  /** Writes what is counted and not yet written, and stops the timer (at shutdown). */
  close(): void {
    this.summary.close();
  }
}
