import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect, createServer, type AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { waitFor } from './wait-for';

/**
 * The policy of every test that needs Redis: the real one at REDIS_URL (default 127.0.0.1:6379), and
 * for outage tests a private `redis-server` the test starts and kills itself. When Redis is missing,
 * the tests say so loudly and skip; under CI=true (`.ci/run`) they fail instead, because there a
 * skipped Redis test would hide that the shared budget was never tested.
 */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

/** What a Redis test needs: `redis` the server at REDIS_URL, `server` the binary for private instances. */
export type RedisNeed = 'redis' | 'server';

const missing = new Map<RedisNeed, string | undefined>();

/**
 * Checked synchronously, once per test file, because jest decides between `describe` and
 * `describe.skip` while it collects the tests, before any hook could await a connection.
 */
function whyMissing(need: RedisNeed): string | undefined {
  if (!missing.has(need)) {
    missing.set(need, need === 'redis' ? probeRedis(REDIS_URL) : probeServerBinary());
  }
  return missing.get(need);
}

function probeRedis(url: string): string | undefined {
  const script = `
    const Redis = require('ioredis');
    const redis = new Redis(process.argv[1], { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => {});
    redis.connect().then(() => redis.ping()).then(
      () => { redis.disconnect(); process.exit(0); },
      (error) => { process.stderr.write(error.message); process.exit(1); });`;
  const probe = spawnSync(process.execPath, ['-e', script, url], { cwd: process.cwd(), timeout: 5000, encoding: 'utf8' });
  if (probe.status === 0) return undefined;
  return `no Redis answers PING at ${url} (${probe.stderr.trim() || probe.error?.message || `exit ${probe.status}`})`;
}

function probeServerBinary(): string | undefined {
  const probe = spawnSync(REDIS_SERVER, ['--version'], { timeout: 5000, encoding: 'utf8' });
  return probe.status === 0 ? undefined : `the ${REDIS_SERVER} binary cannot be run (${probe.error?.message ?? `exit ${probe.status}`})`;
}

/**
 * `describe` when what the tests need is there. Otherwise: under CI=true, one failing test saying
 * what is missing; elsewhere a loud warning and `describe.skip`.
 */
export function describeWithRedis(name: string, needs: readonly RedisNeed[], body: () => void): void {
  const reasons = needs.map(whyMissing).filter((reason): reason is string => reason !== undefined);
  if (reasons.length === 0) return describe(name, body);
  if (process.env.CI === 'true') {
    return describe(name, () => {
      it('has the Redis it needs (Redis is required in CI)', () => {
        throw new Error(`Redis is required in CI: ${reasons.join('; ')}`);
      });
    });
  }
  console.warn(
    [
      '',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      `!!! SKIPPED "${name}": ${reasons.join('; ')}.`,
      '!!! The shared QPS budget and cache are NOT tested. Start Redis or point REDIS_URL at one,',
      '!!! and install redis-server (or point REDIS_SERVER at it). Under CI=true this fails.',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    ].join('\n'),
  );
  describe.skip(name, body);
}

/** A key prefix no other test run uses, so parallel runs on one Redis never see each other's keys. */
export function uniqueKeyPrefix(label: string): string {
  return `presence-graph-test:${label}:${process.pid}:${randomUUID().slice(0, 8)}:`;
}

/** Deletes every key under `prefix` (a prefix from `uniqueKeyPrefix`, free of glob characters). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** A `redis-server` of the test's own, on a free port, that the test can kill and start again. */
/**
 * Two connections to the real Redis standing for two replicas, under a key prefix of their own;
 * call inside a `describeWithRedis` body. The keys are deleted and the connections closed after.
 */
export function twoReplicaConnections(label: string): { prefix: string; replicaA: () => Redis; replicaB: () => Redis } {
  const prefix = uniqueKeyPrefix(label);
  let replicaA: Redis;
  let replicaB: Redis;
  beforeAll(async () => {
    replicaA = new Redis(REDIS_URL, { lazyConnect: true });
    replicaB = new Redis(REDIS_URL, { lazyConnect: true });
    await Promise.all([replicaA.connect(), replicaB.connect()]);
  });
  afterAll(async () => {
    await deleteKeys(replicaA, prefix);
    await Promise.all([replicaA.quit(), replicaB.quit()]);
  });
  return { prefix, replicaA: () => replicaA, replicaB: () => replicaB };
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL: no goodbye to its clients) and resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: it keeps nothing) and resolves once it answers PING. */
  start(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const server: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGKILL');
      await exited;
    },
    async start() {
      if (child) throw new Error(`the private redis-server on port ${port} is already running`);
      child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      const started = child;
      await waitFor(`redis-server on port ${port} to answer PING`, async () => {
        if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode}`);
        return ping(port);
      });
    },
  };
  await server.start();
  return server;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One PING over a fresh connection: true on PONG, false when nothing answers. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A TCP port nothing listens on, for "Redis unreachable" tests: taken from the OS, then released. */
export const closedPort = freePort;
