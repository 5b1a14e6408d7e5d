import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionAction } from '../../presence/session-api';
import type { PresenceObserver, PresenceOrigin } from '../../presence/types';

/**
 * Prometheus series of the public contract (architecture.md, "Operator endpoints"). Base units, and
 * no per-device labels: a label per Client ID would grow without bound and leak the fleet.
 * One registry per service instance, so tests can run several side by side.
 */
export class PresenceMetrics implements PresenceObserver {
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
    help: 'Client ID lookups by how they were answered (upstream, cache, stale, error).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

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

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
