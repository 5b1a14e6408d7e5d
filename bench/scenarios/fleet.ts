import { cpus, loadavg, totalmem } from 'node:os';
import { consumeThroughRabbitMQ, type AmqpFigures } from '../fleet/amqp-consume';
import { startPrivateRedis } from '../fleet/private-redis';
import { rabbitmqctl } from '../fleet/rabbitmq';
import { CONNECTIONS, latencySummary, measureServed, type ServedFigures, type Variant } from '../fleet/served';
import { fillFleet, FLEET_GROUPS, type FillFigures } from '../fleet/table-fill';
import type { BenchContext, Goal, ScenarioReport } from '../lib/report';
import { table } from '../lib/report';
import { fmt, median } from '../lib/stats';

/** The goals of the fleet scenario (BENCHMARKS.md, Goals). */
const MAX_BYTES_FOR_A_MILLION = 200e6;
const MIN_NOTICES_PER_SECOND = 20_000;
const MIN_THROUGHPUT_RATIO = 0.9;
const MAX_BILLED_PER_THOUSAND = 1;
const MAX_P99_MS = 100;

function knob(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number; got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * Fleet: status notices. A private redis-server (free port, no persistence, stopped
 * after) holds a million devices made known through the real StatusNoticeSink and RedisPresenceTable;
 * RabbitMQ (127.0.0.1:5672) carries notices to the real StatusNoticeConsumer; the service runs as
 * deployed for the read throughput, the billed calls and the connect → presenceChanged latency.
 */
export async function fleet(ctx: BenchContext): Promise<ScenarioReport> {
  const devices = knob('BENCH_FLEET_DEVICES', 1_000_000);
  const inFlight = knob('BENCH_FLEET_IN_FLIGHT', 256);
  const amqpNotices = knob('BENCH_FLEET_AMQP_NOTICES', 100_000);
  const latencySamples = knob('BENCH_FLEET_LATENCY_SAMPLES', 200);
  const started = Date.now();
  const loadBefore = loadavg();
  const rabbitVersion = await rabbitmqctl('version').catch(() => 'unknown');
  const redis = await startPrivateRedis();
  ctx.log(`fleet: private redis-server ${redis.version} at ${redis.url} (pid ${redis.pid})`);
  let fill: FillFigures;
  let amqp: AmqpFigures;
  let served: ServedFigures;
  try {
    fill = await fillFleet(redis, devices, inFlight, ctx.log);
    ctx.log(`fleet: ${devices} devices, ${fmt(fill.bytesPerDevice)} B each, ${fmt(fill.fill.perSecond)} notices/s`);
    amqp = await consumeThroughRabbitMQ(await redis.replicaClient(), amqpNotices, ctx.log);
    served = await measureServed(redis, { rounds: ctx.rounds, roundSeconds: ctx.roundSeconds, latencySamples }, ctx.log);
  } finally {
    await redis.stop();
  }
  const loadAfter = loadavg();
  return render({ fill, amqp, served, devices, inFlight, ctx, rabbitVersion, redisVersion: redis.version, loadBefore, loadAfter, seconds: (Date.now() - started) / 1000 });
}

interface RenderInput {
  fill: FillFigures;
  amqp: AmqpFigures;
  served: ServedFigures;
  devices: number;
  inFlight: number;
  ctx: BenchContext;
  rabbitVersion: string;
  redisVersion: string;
  loadBefore: number[];
  loadAfter: number[];
  seconds: number;
}

function render({ fill, amqp, served, devices, inFlight, ctx, rabbitVersion, redisVersion, loadBefore, loadAfter, seconds }: RenderInput): ScenarioReport {
  const memoryForAMillion = fill.bytesPerDevice * 1_000_000;
  const rps = (variant: Variant) => median(served.rounds[variant].map((r) => r.requestsPerSecond));
  const cpu = (variant: Variant) => median(served.rounds[variant].map((r) => r.cpuMicrosPerRequest));
  const lat = (variant: Variant, key: 'p50' | 'p99') => fmt(median(served.rounds[variant].map((r) => r.latencyMs[key])));
  const ratio = (variant: Variant) => rps(variant) / rps('cached');
  const billedPerThousand = (served.measuredCalls / served.measuredReads) * 1000;
  const amqpLatency = latencySummary(served.latency.amqp.connect);
  const amqpDown = latencySummary(served.latency.amqp.disconnect);
  const localLatency = latencySummary(served.latency.inProcess.connect);
  const localDown = latencySummary(served.latency.inProcess.disconnect);
  const perReplica = Math.min(fill.fill.perSecond, amqp.sink.perSecond);

  const goals: Goal[] = [
    {
      goal: '1,000,000 known devices in ≤ 200 MB of Redis',
      measured: `${fmt(memoryForAMillion / 1e6, 1)} MB (${fmt(fill.bytesPerDevice, 1)} B per device, ${fmt(devices)} devices, INFO used_memory)`,
      met: devices >= 1_000_000 ? memoryForAMillion <= MAX_BYTES_FOR_A_MILLION : null,
    },
    {
      goal: '≥ 20,000 notices/s applied per replica',
      measured: `${fmt(fill.fill.perSecond)} /s through the sink into Redis; ${fmt(amqp.sink.perSecond)} /s end to end from RabbitMQ`,
      met: perReplica >= MIN_NOTICES_PER_SECOND,
    },
    {
      goal: 'Reads from notices ≥ 0.9× the all-cached throughput (100-device query)',
      measured: `Redis table (replicas) ${fmt(ratio('redis'), 2)}× (${fmt(rps('redis'))} vs ${fmt(rps('cached'))} requests/s); in-process table (\`npm start\`) ${fmt(ratio('memory'), 2)}×`,
      met: ratio('redis') >= MIN_THROUGHPUT_RATIO && ratio('memory') >= MIN_THROUGHPUT_RATIO,
    },
    {
      goal: '≤ 1 billed call per 1,000 reads after warm-up (verifier aside)',
      measured: `${fmt(billedPerThousand, 3)} (${served.measuredCalls} calls over ${fmt(served.measuredReads)} device reads)`,
      met: billedPerThousand <= MAX_BILLED_PER_THOUSAND,
    },
    {
      goal: 'Connect → subscriber event p99 ≤ 100 ms on loopback through RabbitMQ',
      measured: `p50 ${fmt(amqpLatency.p50, 1)} ms, p99 ${fmt(amqpLatency.p99, 1)} ms (${served.latency.amqp.connect.length} connects, ${served.latency.amqp.lost} events missing)`,
      met: served.latency.amqp.lost === 0 && amqpLatency.p99 <= MAX_P99_MS,
    },
  ];

  const applyRow = (what: string, run: { notices: number; seconds: number; perSecond: number; clientCpuMicrosPerNotice: number; redisCpuMicrosPerNotice?: number; brokerCpuMicrosPerNotice?: number }) => [
    what,
    fmt(run.notices),
    fmt(run.seconds, 1),
    `**${fmt(run.perSecond)}**`,
    fmt(run.clientCpuMicrosPerNotice, 1),
    run.redisCpuMicrosPerNotice === undefined ? '–' : fmt(run.redisCpuMicrosPerNotice, 1),
    run.brokerCpuMicrosPerNotice === undefined ? '–' : fmt(run.brokerCpuMicrosPerNotice, 1),
  ];
  const variantName: Record<Variant, string> = {
    cached: 'all-cached (baseline): notices off, cache TTL 1 h',
    redis: 'from notices, Redis table: `PRESENCE_SOURCE=alibaba`, `STATUS_NOTICES_URL` (RabbitMQ), `REDIS_URL`',
    memory: 'from notices, in-process table: `PRESENCE_SOURCE=local` (`npm start` as it ships)',
  };
  const latencyRow = (what: string, up: { p50: number; p99: number; max: number }, down: { p50: number; p99: number; max: number }, figures: { connect: number[]; lost: number }) => [
    what,
    figures.connect.length,
    `**${fmt(up.p50, 1)} / ${fmt(up.p99, 1)}** / ${fmt(up.max, 1)}`,
    `${fmt(down.p50, 1)} / ${fmt(down.p99, 1)} / ${fmt(down.max, 1)}`,
    figures.lost,
  ];
  const lookups = Object.entries(served.lookupsByResult).filter(([, n]) => n > 0).map(([result, n]) => `${result} ${fmt(n)}`).join(', ') || 'none';

  const markdown = [
    `Machine of this section: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, ${fmt(totalmem() / 1024 ** 3, 1)} GiB, Node ${process.version}; ` +
      `redis-server ${redisVersion} (a private one the bench starts on a free port, no persistence, stopped after), RabbitMQ ${rabbitVersion} at 127.0.0.1:5672. ` +
      `Load average ${loadBefore.map((l) => fmt(l, 2)).join(' / ')} at its start, ${loadAfter.map((l) => fmt(l, 2)).join(' / ')} at its end; ${fmt(seconds)} s in all. ` +
      '`npm run bench -- --only=fleet` runs it alone. Knobs: `BENCH_FLEET_DEVICES` (1000000), `BENCH_FLEET_IN_FLIGHT` (256), ' +
      '`BENCH_FLEET_AMQP_NOTICES` (100000), `BENCH_FLEET_LATENCY_SAMPLES` (200), and `BENCH_ROUNDS` / `BENCH_ROUND_SECONDS` as above.',
    '',
    '### A million devices in the Redis table, and notices applied per second',
    '',
    `${fmt(devices)} devices in ${FLEET_GROUPS.length} groups (\`GID_fleet0…9\`, 1,024 buckets each, the default), each made known by one \`connect\` notice ` +
      '(a JSON body of about 190 bytes with `clientIp`, generated in the bench process, not read from a broker) handed to the real ' +
      '`StatusNoticeSink` (parse, group check, through the in-process `MirroredPresenceTable` a replica writes through to `RedisPresenceTable.applyNotice`: the updates submitted together read with one script and ' +
      'compare-and-set with one script per batch, then the changes published on the `RedisChangeFeed` as one message; docs/status-notices.md), ' +
      `${inFlight} notices in flight from one process, as one replica's consumer holds its unacked deliveries, over a Redis client made as a replica makes it (redis-client.ts). ` +
      'Memory: `INFO memory` `used_memory` before and after the fill, over the devices. **Baseline** (the floor of one round trip per notice): ' +
      'one plain `HSET` of the same body per notice, same process, same concurrency, same Redis. ' +
      `Outcomes of the fill: ${Object.entries(fill.fill.outcomes).map(([o, n]) => `${o} ${fmt(n)}`).join(', ')} (the bench fails unless every device is applied and counted).`,
    '',
    table(
      ['', 'devices', 'Redis used_memory before → after', 'per device', 'for 1,000,000', 'known / online after (countGroup)'],
      [[
        'presence table',
        fmt(devices),
        `${fmt(fill.usedMemoryBefore / 1e6, 1)} → ${fmt(fill.usedMemoryAfter / 1e6, 1)} MB`,
        `**${fmt(fill.bytesPerDevice, 1)} B**`,
        `**${fmt(memoryForAMillion / 1e6, 1)} MB**`,
        `${fmt(fill.known)} / ${fmt(fill.online)}`,
      ]],
    ),
    '',
    `End to end through RabbitMQ: ${fmt(amqp.sink.notices)} \`connect\` notices published (guest, vhost \`MQTT\`, publisher confirms; ${fmt(amqp.publishPerSecond)} /s) ` +
      `to a queue of the run's own (\`presence-graph-bench.status.<run>\`, deleted after; never \`STATUS\`, which other runs share), then consumed ` +
      `by the real \`StatusNoticeConsumer\` (one consume per group as configured, ${FLEET_GROUPS.length} groups, prefetch ${amqp.prefetchPerGroup} each, the default, acks after the sink ` +
      'resolves, several at once with `multiple`) into the sink and a Redis table, timed from the first delivery to the last; RabbitMQ\'s CPU read from /proc over the same span (the bench holds the RabbitMQ lock). The consumer logs in with its signed login ' +
      '(amqp-login.ts); RabbitMQ accepts it through its **internal** backend, for which the bench makes a user whose name and password are ' +
      'exactly that one login (one fixed `ts`, passed as the consumer\'s `now`) and deletes it after, so the HTTP auth backend is not touched ' +
      `for this measurement. **Baseline**: plain amqplib consumes of the same queue, count and prefetch, acking each notice at once. Outcomes: ${Object.entries(amqp.outcomes).map(([o, n]) => `${o} ${fmt(n)}`).join(', ')}.`,
    '',
    table(
      ['notices applied by one process', 'notices', 'seconds', 'notices/s', 'CPU of the process, µs per notice', 'CPU of redis-server, µs per notice', 'CPU of RabbitMQ, µs per notice'],
      [
        applyRow(`in-process → sink → Redis table (${fmt(devices)}-device fill)`, fill.fill),
        applyRow('floor: in-process → one HSET each', fill.floor),
        applyRow('RabbitMQ → StatusNoticeConsumer → sink → Redis table', amqp.sink),
        applyRow('floor: RabbitMQ → amqplib consume, ack at once', amqp.floor),
      ],
    ),
    '',
    '### Reads answered from notices, and billed calls',
    '',
    'The 100-device query of the layer-overhead scenario (`devices(clientIds: $ids) { clientId online }`, `GID_demo@@@device-1…100`), the same load ' +
      `tool and alternation: autocannon, ${CONNECTIONS} connections, closed loop, ${ctx.rounds} rounds of ${ctx.roundSeconds} s per server after a 2 s warm-up of each, ` +
      'the order rotating every round; medians. Three services, each in its own process configured only by its environment, all answering the same ' +
      `(50 online, checked first). **Baseline**: the all-cached service of the layer-overhead scenario (notices off, \`PRESENCE_CACHE_TTL_MS=3600000\`). ` +
      '**From notices, Redis table**: the fleet deployment, a replica with `STATUS_NOTICES_URL=amqp://127.0.0.1:5672` and `STATUS_NOTICES_GROUPS`, ' +
      '`REDIS_URL` (the private Redis, which still holds the million devices above) and the default cache TTL, pointed at the local instance ' +
      '(its own process) as at the cloud; that local instance runs with `LOCAL_STATUS_NOTICES_URL` and publishes its notices to RabbitMQ\'s `STATUS` ' +
      'queue: the 50 online devices are real MQTT clients (`LOCAL_DEMO_DEVICES=50`) made known by their `connect` notices through RabbitMQ; the 50 ' +
      'that never connected were asked once with the batch action at warm-up, and that answer seeded the table. Every device was answered from the ' +
      'table (`presence_lookups_total` while measured: ' + lookups + '). **From notices, in-process**: `npm start` as it ships (the local instance in the ' +
      'service process, notices in-process, memory table), same devices the same way.',
    '',
    table(
      ['service', 'req/s', 'ratio to all-cached', 'p50 / p99 ms', 'server CPU µs per request', 'rounds req/s'],
      (['cached', 'redis', 'memory'] as const).map((variant) => [
        variantName[variant],
        fmt(rps(variant)),
        variant === 'cached' ? '1.00×' : `**${fmt(ratio(variant), 2)}×**`,
        `${lat(variant, 'p50')} / ${lat(variant, 'p99')}`,
        fmt(cpu(variant)),
        served.rounds[variant].map((r) => fmt(r.requestsPerSecond)).join(', '),
      ]),
    ),
    '',
    `**Billed calls.** The emulator counts every \`BatchQuerySessionByClientIds\` call it receives. From its first query (the answer check, where the 50 never-connected devices ` +
      `are looked up once) to the end of its 2 s warm-up: ${served.warmUpCalls} calls. During the measured rounds: **${served.measuredCalls} calls for ` +
      `${fmt(served.measuredReads)} device reads, ${fmt(billedPerThousand, 3)} per 1,000 reads** (the all-cached and in-process services make none to this emulator: ` +
      'the first holds every status for an hour, the second has its own emulator). The verifier was separated by configuration: this replica ran with ' +
      '`STATUS_NOTICES_VERIFY_MIN_AGE_MS=86400000`, so no device was due for a re-check during the run, and its metric ' +
      `\`presence_table_verifications_total\` rose by ${fmt(served.verifications)} over the rounds: every call counted is a read's. As deployed, the verifier spends on its own at most ` +
      '`STATUS_NOTICES_VERIFY_SHARE` (0.1) of `UPSTREAM_BATCH_QPS`, i.e. at most 10 calls/s per account whatever the read rate, re-checking devices quiet for a minute.',
    '',
    '### Connect → presenceChanged',
    '',
    `${served.latency.amqp.samples} devices never seen before (\`GID_bench@@@lat-<run>-<n>\`), watched by one graphql-ws subscriber (two \`presenceChanged\` subscriptions of 100 IDs, ` +
      'over the service\'s WebSocket), connect one after another as real MQTT clients (mqtt.js) to the local instance\'s broker, 10 ms apart, then end ' +
      '(DISCONNECT) one after another. Timed in the bench process from the device\'s CONNACK (or its `end()`) to the event reaching the subscriber. ' +
      '**Through RabbitMQ**: the `LOCAL_STATUS_NOTICES_URL` path, the notice published by the local instance (its own process) to `STATUS` on RabbitMQ, consumed ' +
      'by the Redis-table replica above with its signed login, applied to the Redis table, its change published on the Redis change feed, pushed over graphql-ws. ' +
      '**Baseline**: the same with the notices in-process (`npm start`: broker, sink, memory table and subscriber push in one process, no broker in between).',
    '',
    table(
      ['path', 'connects', 'connect → online event p50 / p99 / max ms', 'end() → offline event p50 / p99 / max ms', 'events missing (5 s)'],
      [
        latencyRow('through RabbitMQ and Redis (`LOCAL_STATUS_NOTICES_URL`)', amqpLatency, amqpDown, served.latency.amqp),
        latencyRow('in-process (`npm start` default)', localLatency, localDown, served.latency.inProcess),
      ],
    ),
    '',
    `**RabbitMQ's auth.** The replica's consumer logs in signed, and RabbitMQ checks that login only through its HTTP auth backend pointed at the ` +
      `local instance's auth endpoint (on a free port of the run's own): the bench pointed it there with \`scripts/prepare-rabbitmq.sh <URL>\` right before ` +
      `starting the replica and, once the replica answered its online devices from notices (${fmt(served.authWindowMs)} ms later), set it back (${served.authRestored}; ` +
      `before the run it was ${served.authBefore ? `pointed at ${served.authBefore}` : 'the internal backend alone'}). The consumer keeps its connection, so ` +
      `no later login was needed. \`STATUS\` had ${served.statusConsumersBefore} other consumer(s) when the run started (another consumer would compete for the ` +
      'local instance\'s notices: its instance ID is the run\'s own, so such a consumer would only cost this run events, shown as missing).',
  ].join('\n');

  return { title: 'Fleet: status notices', goals, markdown };
}

