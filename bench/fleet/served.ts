import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { runLoad, warmUp, type LoadResult } from '../lib/load';
import { startServer, stopAll } from '../lib/processes';
import { demoIds, devicesBody, queryBody } from '../lib/queries';
import { median, percentile, sleep } from '../lib/stats';
import { startLocalHost, startService, takeBatchCalls, type LocalHost, type ServiceProcess } from '../lib/topology';
import type { PrivateRedis } from './private-redis';
import { authSnapshot, pointAuthAt, RABBITMQ_CONSUMER_URL, RABBITMQ_SETUP_URL, restoreAuth, statusConsumers } from './rabbitmq';
import { freePort } from './private-redis';

export const CONNECTIONS = 32;
const DEVICES = 100;
const ONLINE = 50;

/**
 * All load comes from one anonymous caller on one address: the per-caller and per-address limits
 * (CALLER_OPERATIONS_PER_SECOND, 50 by default, and the socket caps) would refuse what is measured.
 */
const ONE_CALLER_LOAD = {
  CALLER_OPERATIONS_PER_SECOND: '0',
  MAX_CONNECTIONS_PER_CALLER: '100000',
  MAX_UNAUTHENTICATED_SOCKETS_PER_ADDRESS: '100000',
};

export type Variant = 'cached' | 'redis' | 'memory';

export interface ThroughputRound extends LoadResult {
  cpuMicrosPerRequest: number;
}

export interface LatencyFigures {
  samples: number;
  lost: number;
  /** CONNACK at the device → the `online: true` event at the subscriber, ms. */
  connect: number[];
  /** The device's end() → the `online: false` event, ms. */
  disconnect: number[];
}

export interface ServedFigures {
  rounds: Record<Variant, ThroughputRound[]>;
  /** Emulator batch calls while the notices replica was warmed up, then while measured. */
  warmUpCalls: number;
  measuredCalls: number;
  /** Device reads (requests × 100) the notices replica answered while measured. */
  measuredReads: number;
  /** From its /metrics, over the measured rounds: lookups by result, and devices its verifier re-checked. */
  lookupsByResult: Record<string, number>;
  verifications: number;
  latency: { amqp: LatencyFigures; inProcess: LatencyFigures };
  statusConsumersBefore: number;
  authBefore: string | undefined;
  authRestored: string;
  /** ms from the service's start to its consumer applying the demo devices' notices (the auth backend was pointed only that long). */
  authWindowMs: number;
}

/**
 * The service as deployed, side by side: the all-cached replica (STATUS_NOTICES off, cache TTL 1 h,
 * as the layer-overhead scenario), a fleet replica answering from notices (PRESENCE_SOURCE=alibaba on
 * the local instance, STATUS_NOTICES_URL = RabbitMQ, the Redis presence table of a private Redis), and
 * `npm start`'s default (PRESENCE_SOURCE=local, notices in-process, memory table). Then connect →
 * presenceChanged latency through RabbitMQ (LOCAL_STATUS_NOTICES_URL) and in-process.
 */
export async function measureServed(
  redis: PrivateRedis,
  options: { rounds: number; roundSeconds: number; latencySamples: number },
  log: (message: string) => void,
): Promise<ServedFigures> {
  const run = `${Date.now().toString(36)}${randomUUID().slice(0, 4)}`;
  const authPort = await freePort();
  const statusConsumersBefore = await statusConsumers();
  const authBefore = await authSnapshot();
  let authRestored = 'not touched';
  let authPointed = false;
  let local: LocalHost | undefined;
  const services: Partial<Record<Variant, ServiceProcess & { info: { url: string; mqttUrl?: string } }>> = {};
  // In production the operator endpoints (/metrics) may have a listener of their own (OPS_PORT, 9464 by
  // default): each service gets a free one, so three services can run side by side.
  const opsPorts = { cached: await freePort(), redis: await freePort(), memory: await freePort() };
  try {
    local = await startLocalHost({
      demoDevices: ONLINE,
      env: {
        LOCAL_INSTANCE_ID: `mqtt-bench-${run}`,
        LOCAL_STATUS_NOTICES_URL: RABBITMQ_SETUP_URL,
        LOCAL_AMQP_AUTH_PORT: String(authPort),
      },
    });
    if (!local.info.amqpAuthUrl) throw new Error('the local instance started no AMQP auth endpoint');
    // The service's consumer logs in signed: RabbitMQ asks the local instance's endpoint, from now until the login is in.
    const pointedAt = Date.now();
    await pointAuthAt(local.info.amqpAuthUrl);
    authPointed = true;
    services.redis = await startService(local, {
      STATUS_NOTICES_URL: RABBITMQ_CONSUMER_URL,
      STATUS_NOTICES_GROUPS: 'GID_demo,GID_bench',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `bench-served-${run}:`,
      // The verifier leaves every device alone during the run: every upstream call counted is a read's.
      STATUS_NOTICES_VERIFY_MIN_AGE_MS: '86400000',
      OPS_PORT: String(opsPorts.redis),
      ...ONE_CALLER_LOAD,
    }, { name: 'presence service (notices, Redis table)' });
    await waitForEvents(services.redis.info.url, demoIds(ONLINE));
    const authWindowMs = Date.now() - pointedAt;
    authRestored = await restoreAuth(authBefore);
    authPointed = false;
    log(`fleet: notices replica consuming; RabbitMQ auth ${authRestored} after ${authWindowMs} ms`);

    services.cached = await startService(local, { PRESENCE_CACHE_TTL_MS: '3600000', OPS_PORT: String(opsPorts.cached), ...ONE_CALLER_LOAD }, { name: 'presence service (all-cached)' });
    services.memory = (await startServer('servers/presence-service.js', {
      name: 'presence service (npm start default)',
      env: { ...localModeEnv(), OPS_PORT: String(opsPorts.memory), ...ONE_CALLER_LOAD },
    })) as ServiceProcess & { info: { url: string; mqttUrl?: string } };

    const body = devicesBody(demoIds(DEVICES));
    // From the first query on: the check below is where the 50 never-connected devices are looked up.
    await takeBatchCalls(local);
    const answers = await Promise.all((['cached', 'redis', 'memory'] as const).map((v) => ask(services[v]!.info.url, body)));
    const online = answers.map((a) => a.filter((d) => d.online).length);
    if (online.some((n) => n !== ONLINE)) throw new Error(`online devices in the answers: ${online.join(', ')}; expected ${ONLINE} each`);

    const warmUpCalls = await (async () => {
      await warmUp(services.redis!.info.url, body);
      await sleep(500);
      return (await takeBatchCalls(local!)).length;
    })();
    await warmUp(services.cached.info.url, body);
    await warmUp(services.memory.info.url, body);
    await takeBatchCalls(local);

    const metricsBefore = await scrape(services.redis.info.url, opsPorts.redis);
    const rounds: Record<Variant, ThroughputRound[]> = { cached: [], redis: [], memory: [] };
    const variants: Variant[] = ['cached', 'redis', 'memory'];
    for (let round = 0; round < options.rounds; round++) {
      // Each variant goes first, second and third in turn.
      const order = variants.map((_, i) => variants[(i + round) % variants.length]);
      for (const variant of order) {
        const server = services[variant]!;
        const before = await server.stats();
        const result = await runLoad({ url: server.info.url, connections: CONNECTIONS, durationSeconds: options.roundSeconds, body });
        const after = await server.stats();
        if (result.non2xx + result.errors > 0) throw new Error(`${variant}: ${result.non2xx} non-2xx and ${result.errors} errors`);
        rounds[variant].push({ ...result, cpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / result.completed });
        log(`fleet: 100 devices, round ${round + 1}, ${variant}: ${Math.round(result.requestsPerSecond)} req/s`);
      }
    }
    await sleep(300);
    const measuredCalls = (await takeBatchCalls(local)).length;
    const metricsAfter = await scrape(services.redis.info.url, opsPorts.redis);
    const lookupsByResult: Record<string, number> = {};
    for (const [series, value] of metricsAfter) {
      const match = /^presence_lookups_total\{result="([^"]+)"\}$/.exec(series);
      if (match) lookupsByResult[match[1]] = value - (metricsBefore.get(series) ?? 0);
    }
    const verifications = (metricsAfter.get('presence_table_verifications_total') ?? 0) - (metricsBefore.get('presence_table_verifications_total') ?? 0);
    const measuredReads = rounds.redis.reduce((n, r) => n + r.completed, 0) * DEVICES;

    log(`fleet: latency through RabbitMQ, ${options.latencySamples} connects`);
    const amqp = await measureLatency(services.redis.info.url, local.info.mqttUrl, `GID_bench@@@lat-${run}-`, options.latencySamples);
    log(`fleet: latency in-process, ${options.latencySamples} connects`);
    const inProcess = await measureLatency(services.memory.info.url, services.memory.info.mqttUrl!, `GID_bench@@@lat-${run}-`, options.latencySamples);

    return {
      rounds,
      warmUpCalls,
      measuredCalls,
      measuredReads,
      lookupsByResult,
      verifications,
      latency: { amqp, inProcess },
      statusConsumersBefore,
      authBefore,
      authRestored,
      authWindowMs,
    };
  } finally {
    if (authPointed) authRestored = await restoreAuth(authBefore).catch((error: Error) => `restore FAILED: ${error.message}`);
    await stopAll([services.cached, services.redis, services.memory, local]);
  }
}

function localModeEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[name]) env[name] = process.env[name]!;
  return {
    ...env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    ALLOW_ANONYMOUS: 'true',
    CALLER_LOOKUPS_PER_SECOND: '0',
    CALLER_OPERATIONS_PER_SECOND: '0',
    PRESENCE_SOURCE: 'local',
    // Production refuses the local instance unless asked for by name.
    LOCAL_IN_PRODUCTION: 'true',
    LOCAL_HOST: '127.0.0.1',
    LOCAL_MQTT_PORT: '0',
    LOCAL_DEMO_DEVICES: String(ONLINE),
    LOCAL_BATCH_LAG_MS: '0',
  };
}

interface Answer {
  clientId: string;
  online: boolean;
}

async function ask(url: string, body: string): Promise<Answer[]> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const json = (await response.json()) as { data?: { devices: Answer[] }; errors?: unknown };
  if (!json.data) throw new Error(`${url}: ${JSON.stringify(json.errors).slice(0, 300)}`);
  return json.data.devices;
}

/** Until every one of `ids` is answered from the table (source EVENTS): the consumer is in and has applied their notices. */
async function waitForEvents(url: string, ids: string[], timeoutMs = 60_000): Promise<void> {
  const body = queryBody('query($ids: [ID!]!) { devices(clientIds: $ids) { online presence { source } } }', { ids });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json = (await response.json()) as { data?: { devices: Array<{ online: boolean; presence: { source: string } }> } };
    const devices = json.data?.devices ?? [];
    if (devices.length === ids.length && devices.every((d) => d.online && d.presence.source === 'EVENTS')) return;
    if (Date.now() > deadline) throw new Error(`the notices replica did not answer its ${ids.length} online devices from EVENTS within ${timeoutMs} ms: ${JSON.stringify(json).slice(0, 300)}`);
    await sleep(200);
  }
}

/** /metrics on the operator port, or on the GraphQL one where the service has no separate listener. */
async function scrape(graphqlUrl: string, opsPort: number): Promise<Map<string, number>> {
  const response = await fetch(`http://127.0.0.1:${opsPort}/metrics`).catch(() => fetch(new URL('/metrics', graphqlUrl)));
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  const text = await response.text();
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const space = line.lastIndexOf(' ');
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

const SUBSCRIPTION = 'subscription($ids: [ID!]!) { presenceChanged(clientIds: $ids) { device { clientId } online initial } }';

/**
 * `samples` devices never seen before, watched by one graphql-ws subscriber (100 IDs per subscription),
 * connected one after another by real MQTT clients to the broker at `mqttUrl`, then ended one after
 * another: each time from the device's CONNACK (or its end()) to the event at the subscriber.
 */
async function measureLatency(graphqlUrl: string, mqttUrl: string, prefix: string, samples: number): Promise<LatencyFigures> {
  const ids = Array.from({ length: samples }, (_, i) => `${prefix}${i}`);
  const waiting = new Map<string, { online: boolean; resolve: (at: bigint) => void }>();
  let initials = 0;
  let failure: Error | undefined;
  const client: Client = createClient({ url: graphqlUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: false, retryAttempts: 0 });
  const unsubscribes: Array<() => void> = [];
  const figures: LatencyFigures = { samples, lost: 0, connect: [], disconnect: [] };
  const devices: MqttClient[] = [];
  try {
    for (let from = 0; from < ids.length; from += 100) {
      unsubscribes.push(
        client.subscribe<{ presenceChanged: { device: { clientId: string }; online: boolean; initial: boolean } }>(
          { query: SUBSCRIPTION, variables: { ids: ids.slice(from, from + 100) } },
          {
            next: ({ data, errors }) => {
              const at = process.hrtime.bigint();
              if (errors) return void (failure ??= new Error(`presenceChanged: ${JSON.stringify(errors).slice(0, 300)}`));
              const change = data!.presenceChanged;
              if (change.initial) return void initials++;
              const waiter = waiting.get(change.device.clientId);
              if (waiter && waiter.online === change.online) {
                waiting.delete(change.device.clientId);
                waiter.resolve(at);
              }
            },
            error: (error) => void (failure ??= error instanceof Error ? error : new Error(`presenceChanged: ${String(error)}`)),
            complete: () => undefined,
          },
        ),
      );
    }
    const deadline = Date.now() + 30_000;
    while (initials < samples) {
      if (failure) throw failure;
      if (Date.now() > deadline) throw new Error(`only ${initials} of ${samples} initial statuses within 30 s`);
      await sleep(50);
    }
    const expect = (clientId: string, online: boolean): Promise<bigint | undefined> =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(clientId);
          resolve(undefined);
        }, 5000);
        waiting.set(clientId, { online, resolve: (at) => (clearTimeout(timer), resolve(at)) });
      });
    for (const clientId of ids) {
      const event = expect(clientId, true);
      const device = mqtt.connect(mqttUrl, { clientId, reconnectPeriod: 0, clean: true });
      devices.push(device);
      const connack = await new Promise<bigint>((resolve, reject) => {
        device.once('connect', () => resolve(process.hrtime.bigint()));
        device.once('error', reject);
      });
      const at = await event;
      if (at === undefined) figures.lost++;
      else figures.connect.push(Number(at - connack) / 1e6);
      await sleep(10);
    }
    for (const device of devices) {
      const event = expect(device.options.clientId!, false);
      const ended = process.hrtime.bigint();
      await device.endAsync();
      const at = await event;
      if (at === undefined) figures.lost++;
      else figures.disconnect.push(Number(at - ended) / 1e6);
      await sleep(10);
    }
    if (failure) throw failure;
    return figures;
  } finally {
    for (const unsubscribe of unsubscribes) unsubscribe();
    await Promise.all(devices.map((device) => device.endAsync().catch(() => undefined)));
    await client.dispose();
  }
}

export function latencySummary(values: number[]): { p50: number; p99: number; max: number } {
  return { p50: median(values), p99: percentile(values, 99), max: Math.max(...values) };
}
