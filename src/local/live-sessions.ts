import { EventEmitter } from 'node:events';

export interface SessionChange {
  clientId: string;
  online: boolean;
  at: Date;
}

/**
 * The truth of the local instance: which Client IDs have a live MQTT session on the embedded broker,
 * and since when. The broker feeds it; the OpenAPI emulator reads it (exact answers read "now", batch
 * answers read the past, lagging like the cloud's internal cache); subscriptions listen to `change`.
 *
 * A Client ID may connect twice (MQTT session takeover): it stays online until its last connection
 * closes, so connections are counted.
 */
export class LiveSessions extends EventEmitter<{ change: [SessionChange] }> {
  private readonly connections = new Map<string, number>();
  /** Per Client ID, the times its status flipped, oldest first, kept only as far back as needed. */
  private readonly history = new Map<string, Array<{ at: number; online: boolean }>>();
  /**
   * Offline Client IDs by when they went offline, oldest first. Once that is older than the window,
   * their history says nothing `wasOnlineAt` could be asked about, and it is dropped: without this,
   * every Client ID that ever connected would keep its history for the life of the process.
   */
  private readonly offlineSince = new Map<string, number>();

  constructor(private readonly historyMs = 10 * 60_000) {
    super();
  }

  connected(clientId: string, at: number = Date.now()): void {
    const count = (this.connections.get(clientId) ?? 0) + 1;
    this.connections.set(clientId, count);
    if (count === 1) this.record(clientId, true, at);
  }

  disconnected(clientId: string, at: number = Date.now()): void {
    const count = (this.connections.get(clientId) ?? 0) - 1;
    if (count > 0) {
      this.connections.set(clientId, count);
      return;
    }
    if (!this.connections.delete(clientId)) return;
    this.record(clientId, false, at);
  }

  isOnline(clientId: string): boolean {
    return this.connections.has(clientId);
  }

  /** The status a client had at `atMs` (offline if it never connected). */
  wasOnlineAt(clientId: string, atMs: number): boolean {
    const flips = this.history.get(clientId);
    if (!flips) return false;
    for (let i = flips.length - 1; i >= 0; i--) {
      if (flips[i].at <= atMs) return flips[i].online;
    }
    return false;
  }

  onlineClientIds(): string[] {
    return [...this.connections.keys()];
  }

  private record(clientId: string, online: boolean, at: number): void {
    const flips = this.history.get(clientId) ?? [];
    flips.push({ at, online });
    // Keep the newest flip older than the window: it is the state at the window's start.
    while (flips.length > 1 && flips[1].at < at - this.historyMs) flips.shift();
    this.history.set(clientId, flips);
    if (online) this.offlineSince.delete(clientId);
    else this.offlineSince.set(clientId, at);
    this.forgetOfflineBefore(at - this.historyMs);
    this.emit('change', { clientId, online, at: new Date(at) });
  }

  private forgetOfflineBefore(cutoffMs: number): void {
    for (const [clientId, since] of this.offlineSince) {
      if (since >= cutoffMs) break;
      this.offlineSince.delete(clientId);
      this.history.delete(clientId);
    }
  }
}
