import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createLogger } from '../../src/common/logger';
import { createRedisClient } from '../../src/redis/redis-client';
import { sleep } from '../lib/stats';

/**
 * A redis-server of the bench's own on a free loopback port, no persistence, stopped after: a million
 * devices and their memory figures never touch the shared Redis (6379) other engineers' tests use.
 */
export interface PrivateRedis {
  url: string;
  pid: number;
  version: string;
  /** INFO memory `used_memory`, bytes. */
  usedMemory(): Promise<number>;
  client(): Redis;
  /** A client made as a replica makes its own (redis-client.ts: fail fast, command timeouts), connected. */
  replicaClient(): Promise<Redis>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'presence-graph-bench-redis-'));
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  // Refused until redis-server listens: the loop below retries.
  admin.on('error', () => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await admin.connect().catch(() => undefined);
      if ((await admin.ping()) === 'PONG') break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer within 10 s`);
    }
    await sleep(100);
  }
  const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown';
  const clients: Redis[] = [admin];
  return {
    url,
    pid: child.pid!,
    version,
    usedMemory: async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]),
    client: () => {
      const client = new Redis(url);
      clients.push(client);
      return client;
    },
    replicaClient: async () => {
      const client = createRedisClient(url, createLogger('warn')) as Redis;
      clients.push(client);
      await client.connect();
      return client;
    },
    stop: async () => {
      for (const client of clients) client.disconnect();
      // Its own child, by its pid.
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
