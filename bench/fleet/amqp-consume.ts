import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import type Redis from 'ioredis';
import { createLogger } from '../../src/common/logger';
import { amqpLogin } from '../../src/upstream/status-notices/amqp-login';
import { StatusNoticeConsumer } from '../../src/upstream/status-notices/status-notice-consumer';
import { sleep } from '../lib/stats';
import { addSignedUser, deleteUser, RABBITMQ_CONSUMER_URL, RABBITMQ_SETUP_URL, rabbitmqCpuMicros } from './rabbitmq';
import { FLEET_GROUPS, FLEET_INSTANCE, redisCpuMicros, replicaSink } from './table-fill';

export interface ConsumeRun {
  notices: number;
  /** From the first delivery to the last notice acked-after-applied (or, for the floor, acked). */
  seconds: number;
  perSecond: number;
  clientCpuMicrosPerNotice: number;
  redisCpuMicrosPerNotice?: number;
  /** RabbitMQ's CPU over the timed consume, µs per notice (when the broker runs on this machine). */
  brokerCpuMicrosPerNotice?: number;
}

export interface AmqpFigures {
  queue: string;
  prefetchPerGroup: number;
  publishPerSecond: number;
  sink: ConsumeRun;
  floor: ConsumeRun;
  /** What every notice came out as, counted by the sink. */
  outcomes: Record<string, number>;
}

const PREFETCH = 256;

/**
 * End to end through RabbitMQ: `count` notices published (guest, vhost MQTT) to a queue of this run,
 * then consumed by the real StatusNoticeConsumer with its signed login (one consume per group, the
 * default prefetch, ack after applied) into the sink and the Redis table. The login is accepted by the
 * internal backend (an internal user made for this run's one signed login, deleted after), so RabbitMQ's
 * HTTP auth backend is never touched. Floor, in the same run: plain amqplib consumes of the same queue
 * and count, same prefetch per consume, acking each notice at once.
 */
export async function consumeThroughRabbitMQ(redis: Redis, count: number, log: (message: string) => void): Promise<AmqpFigures> {
  const run = `${process.pid}-${randomUUID().slice(0, 8)}`;
  const queue = `presence-graph-bench.status.${run}`;
  const key = { accessKeyId: `LTAIbench${run.replace(/-/g, '')}`, accessKeySecret: `bench-${randomUUID()}` };
  const signedAtMs = Date.now();
  const login = amqpLogin(key, FLEET_INSTANCE, signedAtMs);
  const setupUrl = new URL(RABBITMQ_SETUP_URL);
  setupUrl.pathname = '/MQTT';
  const connection = await amqp.connect(setupUrl.href);
  const channel = await connection.createConfirmChannel();
  const brokerCpu = await rabbitmqCpuMicros();
  await addSignedUser(login.username, login.password);
  try {
    await channel.assertQueue(queue, { durable: false });
    const publishAll = async (): Promise<number> => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < count; i++) {
        const group = FLEET_GROUPS[i % FLEET_GROUPS.length];
        const body = JSON.stringify({ clientId: `${group}@@@amqp-${run}-${i}`, eventType: 'connect', channelId: `amqp-${i.toString(36)}-0a1b2c3d`, clientIp: '10.0.0.1', time: Date.now() });
        if (!channel.sendToQueue(queue, Buffer.from(body))) await new Promise((resolve) => channel.once('drain', resolve));
        if (i % 1000 === 999) await channel.waitForConfirms();
      }
      await channel.waitForConfirms();
      return count / (Number(process.hrtime.bigint() - started) / 1e9);
    };

    // The floor: acks at once, nothing applied.
    await publishAll();
    const floor = await timedConsume(count, brokerCpu, async (onMessage) => {
      const floorConnection = await amqp.connect(setupUrl.href);
      const floorChannel = await floorConnection.createChannel();
      await floorChannel.prefetch(PREFETCH);
      for (let g = 0; g < FLEET_GROUPS.length; g++) {
        await floorChannel.consume(queue, (message) => {
          if (!message) return;
          floorChannel.ack(message);
          onMessage();
        });
      }
      return () => floorConnection.close();
    });
    log(`fleet: amqp floor ${Math.round(floor.perSecond)} /s`);

    const publishPerSecond = await publishAll();
    log(`fleet: published ${count} notices (${Math.round(publishPerSecond)} /s)`);
    const { sink, close } = replicaSink(redis, 'bench-amqp:');
    const outcomes: Record<string, number> = {};
    const redisBefore = await redisCpuMicros(redis);
    const through = await timedConsume(count, brokerCpu, async (onMessage) => {
      const consumer = new StatusNoticeConsumer({
        url: RABBITMQ_CONSUMER_URL,
        instanceId: FLEET_INSTANCE,
        groups: FLEET_GROUPS,
        queue,
        // The consumer's default prefetch, as deployed (PREFETCH is the floor's).
        credentials: async () => key,
        // The one ts the internal user was made for; a fresh one per login otherwise (amqp-login.ts).
        now: () => signedAtMs,
        onNotice: async (body) => {
          const outcome = await sink.accept(body);
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
          onMessage();
          return outcome === 'applied' ? 'applied' : 'ignored';
        },
        logger: createLogger('warn'),
      });
      await consumer.start();
      return () => consumer.close();
    });
    const redisAfter = await redisCpuMicros(redis);
    await close();
    log(`fleet: amqp consumer + sink ${Math.round(through.perSecond)} /s`);
    return {
      queue,
      prefetchPerGroup: PREFETCH,
      publishPerSecond,
      sink: { ...through, redisCpuMicrosPerNotice: (redisAfter - redisBefore) / count },
      floor,
      outcomes,
    };
  } finally {
    await channel.deleteQueue(queue).catch(() => undefined);
    await connection.close().catch(() => undefined);
    await deleteUser(login.username);
  }
}

/** Starts consuming (`start` gives the stopper), times from the first message to the `count`th. */
async function timedConsume(count: number, brokerCpu: (() => number) | undefined, start: (onMessage: () => void) => Promise<() => Promise<void>>): Promise<ConsumeRun> {
  let received = 0;
  let first: bigint | undefined;
  let last: bigint | undefined;
  const cpuBefore = process.cpuUsage();
  const brokerBefore = brokerCpu?.();
  const stop = await start(() => {
    first ??= process.hrtime.bigint();
    if (++received === count) last = process.hrtime.bigint();
  });
  const deadline = Date.now() + 120_000;
  while (last === undefined) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`only ${received} of ${count} notices consumed within 120 s`);
    }
    await sleep(20);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const brokerAfter = brokerCpu?.();
  await stop();
  const seconds = Number(last - first!) / 1e9;
  const run: ConsumeRun = { notices: count, seconds, perSecond: count / seconds, clientCpuMicrosPerNotice: (cpu.user + cpu.system) / count };
  if (brokerBefore !== undefined && brokerAfter !== undefined) run.brokerCpuMicrosPerNotice = (brokerAfter - brokerBefore) / count;
  return run;
}
