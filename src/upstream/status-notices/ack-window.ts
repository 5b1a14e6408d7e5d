import type * as amqp from 'amqplib';

type Settled = 'running' | 'applied' | 'failing';

/**
 * The deliveries of one channel not yet acked, in delivery-tag order, so that many acks go to the
 * broker as ONE `basic.ack` with `multiple`: it acks every unacked delivery up to its tag. That is
 * only sent for a run of deliveries that are all applied (durably: the handler resolved), starting at
 * the oldest unsettled one, so no notice is ever acked before it is applied. A delivery whose handler
 * failed waits to be handed back (nack with requeue, after a delay): it is never in an acked run, and
 * the applied ones behind it are acked one by one so they do not wait for it.
 *
 * Acks are sent together once the process has finished with the I/O event that applied them (a
 * batch of notices resolves at once): RabbitMQ's work per ack frame was a large share of the broker's
 * CPU per notice (docs/status-notices.md).
 */
export class AckWindow {
  /** A Map keeps insertion order, and delivery tags grow on a channel: the first entry is the oldest. */
  private readonly unacked = new Map<number, { message: amqp.ConsumeMessage; state: Settled }>();
  private scheduled = false;

  /** `ack` sends one basic.ack (`multiple`: every unacked delivery up to this one). */
  constructor(private readonly ack: (message: amqp.ConsumeMessage, multiple: boolean) => void) {}

  delivered(message: amqp.ConsumeMessage): void {
    this.unacked.set(message.fields.deliveryTag, { message, state: 'running' });
  }

  /** The handler resolved: the notice is applied and may be acked. */
  applied(message: amqp.ConsumeMessage): void {
    this.mark(message, 'applied');
  }

  /** The handler rejected: the notice will be nacked (handOver) later; until then it is never acked. */
  failing(message: amqp.ConsumeMessage): void {
    this.mark(message, 'failing');
  }

  /** Forget a delivery that was nacked (or whose channel is gone). */
  handedBack(message: amqp.ConsumeMessage): void {
    this.unacked.delete(message.fields.deliveryTag);
    this.schedule();
  }

  /** Sends what can be acked now; also called on close, before the connection goes. */
  flush(): void {
    this.scheduled = false;
    let run: amqp.ConsumeMessage | undefined;
    const single: amqp.ConsumeMessage[] = [];
    let blocked = false;
    for (const [tag, held] of this.unacked) {
      if (held.state === 'running') break;
      if (held.state === 'failing') {
        blocked = true;
        continue;
      }
      this.unacked.delete(tag);
      if (blocked) single.push(held.message);
      else run = held.message;
    }
    if (run) this.ack(run, true);
    for (const message of single) this.ack(message, false);
  }

  get size(): number {
    return this.unacked.size;
  }

  private mark(message: amqp.ConsumeMessage, state: Settled): void {
    const held = this.unacked.get(message.fields.deliveryTag);
    if (!held) return;
    held.state = state;
    if (state === 'applied') this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }
}
