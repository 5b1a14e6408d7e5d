import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { vhostUrls } from '../../../src/local/amqp-vhost-url';
import { RABBITMQ_URL } from '../../support/rabbitmq';

/**
 * The status notice queues of the local RabbitMQ, for tests run under `describeWithRabbitMQ(…,
 * ['amqp', 'rabbitmqctl'], …)` (test/support/rabbitmq.ts): the vhost MQTT, a queue of each test's own
 * there, and ways for the broker to "go away".
 */
const run = promisify(execFile);

/** RABBITMQ_URL on the virtual host MQTT. */
export const STATUS_VHOST_URL = vhostUrls(RABBITMQ_URL).connectionUrl;

async function rabbitmqctl(...args: string[]): Promise<string> {
  return (await run('rabbitmqctl', ['-q', ...args], { timeout: 30_000 })).stdout;
}

/** The vhost MQTT with guest allowed on it, created when missing (as scripts/prepare-rabbitmq.sh does). */
export async function ensureStatusVhost(): Promise<void> {
  const vhosts = (await rabbitmqctl('list_vhosts', '--no-table-headers', 'name')).split('\n').map((line) => line.trim());
  if (!vhosts.includes('MQTT')) await rabbitmqctl('add_vhost', 'MQTT');
  await rabbitmqctl('set_permissions', '-p', 'MQTT', 'guest', '.*', '.*', '.*');
}

/** A queue (and connection) name no other test run uses, so parallel runs never see each other's messages. */
export function uniqueName(label: string): string {
  return `presence-graph-test.${label}.${process.pid}.${randomUUID().slice(0, 8)}`;
}

export interface QueuedMessage {
  body: string;
  persistent: boolean;
}

/** Takes every message now in `queue` (vhost MQTT), oldest first, acknowledging them. */
export async function takeAll(queue: string): Promise<QueuedMessage[]> {
  // One round trip per message: without noDelay, Nagle and delayed ACKs make each one 40 ms.
  const connection = await amqp.connect(STATUS_VHOST_URL, { noDelay: true });
  try {
    const channel = await connection.createChannel();
    const messages: QueuedMessage[] = [];
    for (let message = await channel.get(queue); message; message = await channel.get(queue)) {
      messages.push({ body: message.content.toString('utf8'), persistent: message.properties.deliveryMode === 2 });
      channel.ack(message);
    }
    return messages;
  } finally {
    await connection.close();
  }
}

/** Asserts `queue` durable (it throws PRECONDITION_FAILED if it exists otherwise), then deletes it. */
export async function assertDurableAndDelete(queue: string): Promise<void> {
  const connection = await amqp.connect(STATUS_VHOST_URL);
  try {
    const channel = await connection.createChannel();
    await channel.assertQueue(queue, { durable: true });
    await channel.deleteQueue(queue);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * Has the broker close the connection whose client named itself `connectionName`, as
 * `rabbitmqctl close_all_connections` would, leaving every other connection (other tests', other
 * engineers', all logged in as guest) alone.
 */
export async function closeConnectionNamed(connectionName: string): Promise<void> {
  const lines = (await rabbitmqctl('list_connections', '--no-table-headers', 'pid', 'client_properties')).split('\n');
  const line = lines.find((candidate) => candidate.includes(`"${connectionName}"`));
  if (!line) throw new Error(`no RabbitMQ connection is named ${connectionName}`);
  await rabbitmqctl('close_connection', line.split('\t')[0].trim(), 'closed by a test');
}

/** A TCP proxy to RabbitMQ that a test can cut (the broker "goes away") and restore on the same port. */
export interface RabbitMqProxy {
  /** RABBITMQ_URL through the proxy. */
  readonly url: string;
  /** Destroys every proxied connection and refuses new ones. */
  cut(): Promise<void>;
  /** Accepts connections again. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startRabbitMqProxy(): Promise<RabbitMqProxy> {
  const target = new URL(RABBITMQ_URL);
  const targetPort = Number(target.port || 5672);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const listen = async (): Promise<void> => {
    const listening = createServer((client) => {
      const upstream = connect(targetPort, target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.once('close', () => {
          sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => listening.listen(port, '127.0.0.1', resolve));
    port = (listening.address() as AddressInfo).port;
    server = listening;
  };
  const stop = async (): Promise<void> => {
    const closing = server;
    server = undefined;
    const closed = closing ? new Promise<void>((resolve) => closing.close(() => resolve())) : Promise.resolve();
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  await listen();
  const url = new URL(RABBITMQ_URL);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return { url: url.href, cut: stop, restore: listen, close: stop };
}
