/**
 * The operations one WebSocket connection runs, for MAX_SUBSCRIPTIONS_PER_CONNECTION. graphql-ws
 * forgets an operation as soon as the client sends `complete`. A subscription then stops (its
 * stream is returned), but a query's execution goes on until it ends: counting only what graphql-ws
 * holds let a client run any number of queries at once by completing each as soon as it was sent.
 * So: the operations graphql-ws holds, plus the queries it let go whose execution still runs.
 */
export class ConnectionOperations {
  /** Accepted queries (and mutations) whose execution has not ended, by their subscribe payload (one object per message). */
  private readonly running = new Map<object, string>();
  /** The accepted operation each id names: a client may reuse the id of an operation it completed. */
  private readonly holders = new Map<string, object>();

  /**
   * `held`: graphql-ws's operations of the connection by id (`ctx.subscriptions`), the incoming one
   * (`incomingId`) included. A running operation under that id was let go: the client completed it
   * and reused its id.
   */
  count(held: Readonly<Record<string, unknown>>, incomingId: string): number {
    let letGo = 0;
    for (const [payload, id] of this.running) if (id === incomingId || !(id in held) || this.holders.get(id) !== payload) letGo++;
    return Object.keys(held).length + letGo;
  }

  /** Accepted: `stream` for a subscription, which stops when the client completes it. */
  started(id: string, payload: object, kind: 'execution' | 'stream'): void {
    if (kind === 'execution') this.running.set(payload, id);
    this.holders.set(id, payload);
  }

  /** Its execution (or its subscription's stream) has ended: graphql-ws's onComplete. */
  ended(id: string, payload: object): void {
    this.running.delete(payload);
    if (this.holders.get(id) === payload) this.holders.delete(id);
  }
}
