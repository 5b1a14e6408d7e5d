import type { Logger } from '../../common/logger';
import { LogSummary, type LogSummaryOptions } from '../observability/log-summary';
import type { UnauthenticatedError } from './authenticator';

// Enough of a refusal's message to read it; it should hold no client text, but is cut short in case.
const MAX_MESSAGE_CHARS = 200;

/**
 * Refused credentials, summarised per transport and reason (LogSummary): the first at once, then one
 * line per transport and reason per interval with the count and the last address. Anyone can be
 * refused (no credentials are needed for that), so a line per refusal would let anyone fill the
 * operator's disk; keyed by address too, 1,000 addresses made 996 lines. Reasons are the
 * authenticators' own codes, a short fixed list, so the lines per interval are bounded whatever the
 * client varies. Never the credentials themselves.
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
    const message = error.message.length > MAX_MESSAGE_CHARS ? `${error.message.slice(0, MAX_MESSAGE_CHARS)}…` : error.message;
    this.summary.record(`${transport} ${error.reason}`, { refused: 1 }, { message, reason: error.reason, remoteAddress, transport });
  }

  /** Writes what is counted and not yet written, and stops the timer (at shutdown). */
  close(): void {
    this.summary.close();
  }
}

type Transport = 'http' | 'websocket';
