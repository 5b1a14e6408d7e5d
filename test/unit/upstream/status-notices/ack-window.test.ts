import type * as amqp from 'amqplib';
import { AckWindow } from '../../../../src/upstream/status-notices/ack-window';

const delivery = (deliveryTag: number) => ({ fields: { deliveryTag } }) as amqp.ConsumeMessage;
const nextImmediate = () => new Promise((resolve) => setImmediate(resolve));

describe('AckWindow', () => {
  it('acks a run of applied deliveries with one multiple ack, never past one still running', async () => {
    const acks: Array<[number, boolean]> = [];
    const window = new AckWindow((message, multiple) => acks.push([message.fields.deliveryTag, multiple]));
    const messages = [1, 2, 3, 4, 5].map(delivery);
    messages.forEach((message) => window.delivered(message));
    // Applied out of order: 2, 1 and 4; 3 still running.
    window.applied(messages[1]);
    window.applied(messages[0]);
    window.applied(messages[3]);
    await nextImmediate();
    expect(acks).toEqual([[2, true]]);
    window.applied(messages[2]);
    window.applied(messages[4]);
    await nextImmediate();
    expect(acks).toEqual([[2, true], [5, true]]);
    expect(window.size).toBe(0);
  });

  it('never acks a failing delivery, and acks the applied ones behind it one by one until it is handed back', async () => {
    const acks: Array<[number, boolean]> = [];
    const window = new AckWindow((message, multiple) => acks.push([message.fields.deliveryTag, multiple]));
    const messages = [1, 2, 3, 4].map(delivery);
    messages.forEach((message) => window.delivered(message));
    window.applied(messages[0]);
    window.failing(messages[1]);
    window.applied(messages[2]);
    await nextImmediate();
    // 4 is still running: nothing after it could be acked, and 2 is not acked by any run.
    expect(acks).toEqual([[1, true], [3, false]]);
    window.handedBack(messages[1]);
    window.applied(messages[3]);
    await nextImmediate();
    expect(acks).toEqual([[1, true], [3, false], [4, true]]);
    expect(window.size).toBe(0);
  });

  it('sends what is applied when flushed at once (on close), and nothing for a delivery it does not hold', () => {
    const acks: number[] = [];
    const window = new AckWindow((message) => acks.push(message.fields.deliveryTag));
    window.delivered(delivery(7));
    window.applied(delivery(7));
    window.applied(delivery(8));
    window.flush();
    expect(acks).toEqual([7]);
  });
});
