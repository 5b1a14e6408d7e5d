import type { Logger } from '../../common/logger';
import { LogSummary, type LogSummaryOptions } from '../observability/log-summary';
import type { UnauthenticatedError } from './authenticator';

/**
 * Refused credentials, summarised per reason and address (LogSummary): the first at once, then one
 * line per reason and address per interval with the count. Anyone can be refused (no credentials
 * are needed for that), so a line per refusal would let anyone fill the operator's disk. Never the
 * credentials themselves.
 */
export class AuthRefusalLog {
  private readonly summary: LogSummary<{ refused: number }, { message: string; reason: string; remoteAddress?: string; transport: Transport }>;

  constructor(logger: Logger, options: LogSummaryOptions = {}) {
    this.summary = new LogSummary((_key, counts, _requests, detail, immediate) => {
      const prefix = detail.transport === 'websocket' ? 'WebSocket caller refused' : 'caller refused';
      logger.info(
        { reason: detail.reason, remoteAddress: detail.remoteAddress, ...(immediate ? {} : { refused: counts.refused }) },
        `${prefix}: ${detail.message}${immediate ? '' : ` (${counts.refused} times in the last interval)`}`,
      );
    }, options);
  }

  record(error: UnauthenticatedError, remoteAddress: string | undefined, transport: Transport): void {
    this.summary.record(`${transport} ${error.reason} ${remoteAddress ?? ''}`, { refused: 1 }, { message: error.message, reason: error.reason, remoteAddress, transport });
  }

  /** Writes what is counted and not yet written, and stops the timer (at shutdown). */
  close(): void {
    this.summary.close();
  }
}

type Transport = 'http' | 'websocket';
