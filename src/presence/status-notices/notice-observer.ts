import type { StatusNoticeEvent } from './status-notice';

/** What became of one notice: the label `outcome` of `presence_status_notices_total`. */
export type NoticeOutcome = 'applied' | 'duplicate' | 'ignored' | 'malformed' | 'rejected';

/** Hooks for the notices' metrics; `server/observability/metrics.ts` implements them. */
export interface NoticeObserver {
  /** One notice handled; `event` is `unknown` for a body that did not parse. */
  notice(event: StatusNoticeEvent | 'unknown', outcome: NoticeOutcome): void;
  /** How long after the broker stamped it a notice was applied (now − notice time). */
  noticeLagMs(ms: number): void;
  /** The verifier re-checked `checked` devices; `disagreed` of them the table had wrong. */
  verified(checked: number, disagreed: number): void;
}

export const NO_NOTICE_OBSERVER: NoticeObserver = Object.freeze({
  notice() {},
  noticeLagMs() {},
  verified() {},
});
