import type { Logger } from '../../common/logger';
import { LogSummary, type LogSummaryOptions } from './log-summary';

/** Why a connection was turned away before any credentials were looked at. */
export enum ConnectionRefusal {
  /** The Host header names none of ALLOWED_HOSTS (DNS rebinding, or a misconfigured name). */
  UnknownHost = 'host not allowed',
  /** The address holds MAX_UNAUTHENTICATED_SOCKETS_PER_ADDRESS WebSockets not yet authenticated. */
  TooManyUnauthenticatedSockets = 'too many unauthenticated sockets',
  /**
   * A WebSocket upgrade, or a cross-origin HTTP request (a CORS preflight, say), from a page whose
   * Origin is neither this service nor in CORS_ORIGINS (the Origin shown, truncated).
   */
  OriginNotAllowed = 'origin not allowed',
  /** An authenticated caller already holds MAX_CONNECTIONS_PER_CALLER WebSockets (the caller shown). */
  TooManyConnectionsForCaller = 'caller holds MAX_CONNECTIONS_PER_CALLER connections',
}

// Enough of a Host header to recognise a misconfigured name; the rest is the attacker's to fill.
const MAX_SHOWN_CHARS = 100;

/**
 * Connections refused before authentication, summarised per kind (LogSummary): the first at once,
 * then one line per kind per 10 s with the count. The key never holds what the client sent, so no
 * variation of Host or address adds lines; the last value is shown, truncated.
 */
export class ConnectionRefusalLog {
  private readonly summary: LogSummary<{ refused: number }, { kind: ConnectionRefusal; transport: string; shown?: string }>;

  constructor(logger: Logger, options: LogSummaryOptions = {}) {
    this.summary = new LogSummary((_key, counts, _requests, detail, immediate) => {
      logger.info(
        { reason: detail.kind, transport: detail.transport, last: detail.shown, ...(immediate ? {} : { refused: counts.refused }) },
        `connection refused: ${detail.kind}${immediate ? '' : ` (${counts.refused} times in the last interval)`}`,
      );
    }, options);
  }

  /** `shown`: the Host header or address that was refused; truncated here. */
  record(kind: ConnectionRefusal, transport: 'http' | 'websocket', shown: string | undefined): void {
    this.summary.record(`${kind} ${transport}`, { refused: 1 }, { kind, transport, shown: shown?.slice(0, MAX_SHOWN_CHARS) });
  }

  close(): void {
    this.summary.close();
  }
}
