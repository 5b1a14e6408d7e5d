import type { Logger } from '../../common/logger';
import { LogSummary, type LogSummaryOptions } from './log-summary';

/**
 * Notices that changed nothing because they were refused (malformed, or stamped far ahead of this
 * clock), for the operator: the first at once with its reason, then one line per 10 s with how many
 * there were since. A broken publisher sending thousands a second costs a line per interval. The
 * reasons quote at most a short, sanitised piece of the notice (status-notice.ts).
 */
export class NoticeRefusalLog {
  private readonly summary: LogSummary<{ notices: number }, string>;

  constructor(logger: Logger, options: LogSummaryOptions = {}) {
    this.summary = new LogSummary((_key, { notices }, _requests, reason, immediate) => {
      if (immediate) logger.warn({ notices }, `status notice refused and acked: ${reason}`);
      else logger.warn({ notices }, `status notices refused and acked since the last line: ${notices}; the last: ${reason}`);
    }, options);
  }

  record(reason: string): void {
    this.summary.record('refused', { notices: 1 }, reason);
  }

  close(): void {
    this.summary.close();
  }
}
