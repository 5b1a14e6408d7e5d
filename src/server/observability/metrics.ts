import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionAction } from '../../presence/session-api';
import type { NoticeObserver, NoticeOutcome } from '../../presence/status-notices/notice-observer';
import type { StatusNoticeEvent } from '../../presence/status-notices/status-notice';
import type { PresenceObserver, PresenceOrigin } from '../../presence/types';

/** The table's size is a walk of every group on Redis: read at most this often, however often scraped. */
const TABLE_SIZE_EVERY_MS = 30_000;

/** What subscriptions hold open now: read at each scrape, never pushed per event. */
export interface SubscriptionCounts {
  webSocketConnections(): number;
  sseStreams(): number;
  subscriptions(): number;
  watchedDevices(): number;
}

/**
 * Prometheus series of the public contract (architecture.md, "Operator endpoints"). Base units, and
 * no per-device labels: a label per Client ID would grow without bound and leak the fleet.
 * One registry per service instance, so tests can run several side by side.
 */
export class PresenceMetrics implements PresenceObserver, NoticeObserver {
  readonly registry = new Registry();

  private readonly upstreamRequests = new Counter({
    name: 'presence_upstream_requests_total',
    help: 'Upstream OpenAPI HTTP calls, by action and outcome (ok, the upstream error code, or network, timeout, MalformedResponse when no readable answer came).',
    labelNames: ['action', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly batchSizes = new Histogram({
    name: 'presence_upstream_batch_size',
    help: 'Client IDs per BatchQuerySessionByClientIds call (at most 10).',
    buckets: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    registers: [this.registry],
  });

  private readonly lookups = new Counter({
    name: 'presence_lookups_total',
    help: 'Client ID lookups by how they were answered (upstream, cache, stale, events, error).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly notices = new Counter({
    name: 'presence_status_notices_total',
    help: 'Client status notices by event (connect, disconnect, tcpclean, unknown) and outcome (applied, duplicate, ignored, malformed, rejected).',
    labelNames: ['event', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly noticeLag = new Histogram({
    name: 'presence_status_notice_lag_seconds',
    help: 'How long after the broker stamped it a notice was applied (consumer lag).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  private readonly verifierChecks = new Counter({
    name: 'presence_table_verifications_total',
    help: 'Devices of the presence table re-checked with BatchQuerySessionByClientIds by the verifier.',
    registers: [this.registry],
  });

  private readonly verifierDisagreements = new Counter({
    name: 'presence_table_disagreements_total',
    help: 'Re-checked devices whose table status (older than STATUS_NOTICES_BATCH_LAG_MS) the batch answer contradicted; the table was repaired.',
    registers: [this.registry],
  });

  /** Devices the presence table knows, read when scraped; set by `measureTable`. */
  private readonly tableDevices = new Gauge({
    name: 'presence_table_devices',
    help: 'Devices the presence table knows (status notices on).',
    registers: [this.registry],
    collect: async () => {
      if (!this.tableSize || Date.now() - this.tableSizeReadAtMs < TABLE_SIZE_EVERY_MS) return;
      this.tableSizeReadAtMs = Date.now();
      this.tableDevices.set(await this.tableSize().catch(() => NaN));
    },
  });

  private readonly pollerCalls = new Counter({
    name: 'presence_poller_calls_total',
    help: "BatchQuerySessionByClientIds calls of the subscriptions' poller (PRESENCE_SOURCE=alibaba), by outcome (ok, the upstream error code, or network); also counted in presence_upstream_requests_total.",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** What subscriptions hold open, read when scraped; set by `measureSubscriptions`. */
  protected readonly subscriptionGauges = [
    this.readGauge('presence_websocket_connections', 'Open WebSocket connections whose credentials were accepted.', (now) => now.webSocketConnections()),
    this.readGauge('presence_sse_streams', 'Open Server-Sent Events streams (one per operation).', (now) => now.sseStreams()),
    this.readGauge('presence_subscriptions', 'Active presenceChanged subscriptions, over WebSocket and Server-Sent Events.', (now) => now.subscriptions()),
    this.readGauge('presence_watched_devices', 'Distinct devices watched by the subscriptions of this replica.', (now) => now.watchedDevices()),
  ];

  private subscriptionCounts: SubscriptionCounts | undefined;

  private tableSize: (() => Promise<number>) | undefined;
  private tableSizeReadAtMs = -Infinity;

  /** A gauge set from `read` at each scrape; 0 until `measureSubscriptions` says where to read. */
  private readGauge(name: string, help: string, read: (counts: SubscriptionCounts) => number): Gauge {
    const metrics = this;
    return new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(metrics.subscriptionCounts ? read(metrics.subscriptionCounts) : 0);
      },
    });
  }

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  upstreamCall(action: SessionAction, outcome: string): void {
    this.upstreamRequests.inc({ action, outcome });
  }

  batchSize(clientIds: number): void {
    this.batchSizes.observe(clientIds);
  }

  /** Counted on every request: the four series are looked up once, not by hashing the label each time. */
  private readonly lookupsBy = new Map<PresenceOrigin | 'error', { inc(count: number): void }>();

  lookupsAnswered(result: PresenceOrigin | 'error', count: number): void {
    let series = this.lookupsBy.get(result);
    if (!series) {
      series = this.lookups.labels({ result });
      this.lookupsBy.set(result, series);
    }
    series.inc(count);
  }

  notice(event: StatusNoticeEvent | 'unknown', outcome: NoticeOutcome): void {
    this.notices.inc({ event, outcome });
  }

  noticeLagMs(ms: number): void {
    this.noticeLag.observe(ms / 1000);
  }

  verified(checked: number, disagreed: number): void {
    this.verifierChecks.inc(checked);
    if (disagreed > 0) this.verifierDisagreements.inc(disagreed);
  }

  pollerCall(outcome: string): void {
    this.pollerCalls.inc({ outcome });
  }

  /** Where the subscription gauges are read from at each scrape. */
  measureSubscriptions(counts: SubscriptionCounts): void {
    this.subscriptionCounts = counts;
  }

  /** Where `presence_table_devices` is read from at each scrape. */
  measureTable(size: () => Promise<number>): void {
    this.tableSize = size;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
