import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { Cluster } from 'ioredis';
import { describeWithRedis } from './redis';
import { waitFor } from './wait-for';

/**
 * A Redis Cluster of the test's own: three masters with a replica each, six `redis-server` processes
 * on free ports, each in a temporary directory. Built with CLUSTER ADDSLOTSRANGE / MEET / REPLICATE
 * over the nodes' own connections rather than `redis-cli --cluster create` (which does the same): it
 * needs no second binary, so the skip-or-fail policy is exactly describeWithRedis's for
 * `redis-server`, and it does not wait on redis-cli's one-second polls (starts in well under 2 s).
 */
const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';
const HOST = '127.0.0.1';
const SLOTS = 16384;
const MASTERS = 3;
/**
 * How long a silent master takes to be judged failed. Redis's default (15 s) would make one
 * failover test take 20 s; 1 s still leaves a loaded test machine room not to fail over by mistake.
 */
const NODE_TIMEOUT_MS = 1000;
/** A connection closed while it was reaching a killed node would hold the test run open 2 s (ioredis's default). */
const DISCONNECT_TIMEOUT_MS = 100;

export interface ClusterNodeAddress {
  host: string;
  port: number;
}

export interface RedisClusterUnderTest {
  /** Every node started, masters first (`nodes[i + 3]` starts as the replica of `nodes[i]`). */
  readonly nodes: readonly ClusterNodeAddress[];
  /** A plain ioredis client of the cluster, for the test's own reads and writes; closed by `stop`. */
  client(): Cluster;
  /**
   * Kills (SIGKILL) the master serving `key`'s slot, and resolves once its replica has taken the
   * slot over and every surviving node says the cluster is ok. The killed node stays down.
   */
  failoverMasterOf(key: string): Promise<void>;
  /** Kills every node still running, closes the clients and removes the directories. */
  stop(): Promise<void>;
}

interface Node extends ClusterNodeAddress {
  dir: string;
  process: ChildProcess;
  /** The test's own connection to this node, for cluster administration. */
  admin: Redis;
  id: string;
}

/** Children still running, killed when the test process exits whatever happened to `stop`. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** `describe` when `redis-server` can be run; the policy of test/support/redis.ts otherwise. */
export function describeWithRedisCluster(name: string, body: () => void): void {
  describeWithRedis(name, ['server'], body);
}

export async function startRedisCluster(): Promise<RedisClusterUnderTest> {
  const nodes: Node[] = [];
  const clients: Cluster[] = [];
  const stop = async () => {
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    for (const node of nodes) node.admin.disconnect();
    await Promise.all(nodes.map((node) => killed(node.process)));
    await Promise.all(nodes.map((node) => rm(node.dir, { recursive: true, force: true })));
  };
  try {
    const started = await Promise.allSettled((await freeClusterPorts(2 * MASTERS)).map(startNode));
    for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    await Promise.all(nodes.map(async (node) => (node.id = await node.admin.call('CLUSTER', 'MYID') as string)));
    await assignSlots(nodes.slice(0, MASTERS));
    for (const node of nodes.slice(1)) await nodes[0].admin.call('CLUSTER', 'MEET', node.host, String(node.port));
    await waitFor('every node to know all six', async () => (await Promise.all(nodes.map(knownNodes))).every((count) => count === nodes.length), 10_000);
    for (let i = 0; i < MASTERS; i++) await nodes[MASTERS + i].admin.call('CLUSTER', 'REPLICATE', nodes[i].id);
    await waitFor('the cluster to be ok with a synced replica per master', async () => (await Promise.all(nodes.map(isOk))).every(Boolean) && (await replicasInSync(nodes.slice(MASTERS))), 10_000);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    nodes: nodes.map(({ host, port }) => ({ host, port })),
    client() {
      const client = new Cluster(nodes.map(({ host, port }) => ({ host, port })), { redisOptions: { disconnectTimeout: DISCONNECT_TIMEOUT_MS } });
      clients.push(client);
      return client;
    },
    async failoverMasterOf(key) {
      const alive = nodes.filter((node) => node.process.exitCode === null && node.process.signalCode === null);
      const slot = (await alive[0].admin.call('CLUSTER', 'KEYSLOT', key)) as number;
      const master = await masterOf(alive[0], slot);
      const victim = alive.find((node) => node.id === master);
      if (!victim) throw new Error(`no running node is the master of slot ${slot}`);
      victim.admin.disconnect();
      await killed(victim.process);
      const survivors = alive.filter((node) => node !== victim);
      await waitFor(
        `a replica to take over slot ${slot} from the killed master on port ${victim.port}`,
        async () => {
          const owners = await Promise.all(survivors.map((node) => masterOf(node, slot)));
          return owners.every((owner) => owner !== victim.id && owner === owners[0]) && (await Promise.all(survivors.map(isOk))).every(Boolean);
        },
        15_000,
      );
    },
    stop,
  };
}

async function startNode(port: number): Promise<Node> {
  const dir = await mkdtemp(join(tmpdir(), `presence-graph-cluster-${port}-`));
  // Not daemonized: the child is ours, so a test that fails can still kill it.
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', HOST, '--dir', dir, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
      '--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--save', '', '--appendonly', 'no',
      // A replica's first sync would otherwise wait 5 s for more replicas to share the transfer.
      '--repl-diskless-sync-delay', '0'],
    { stdio: 'ignore' },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  const admin = new Redis({ host: HOST, port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, disconnectTimeout: DISCONNECT_TIMEOUT_MS });
  admin.on('error', () => {});
  try {
    await waitFor(`redis-server on port ${port} to accept connections`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${child.exitCode}`);
      if (admin.status !== 'ready') await admin.connect().catch(() => undefined);
      return admin.status === 'ready';
    }, 5000, 10);
  } catch (error) {
    admin.disconnect();
    await killed(child);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { host: HOST, port, dir, process: child, admin, id: '' };
}

/** The slots split in three contiguous ranges, as `redis-cli --cluster create` does. */
async function assignSlots(masters: Node[]): Promise<void> {
  await Promise.all(
    masters.map((node, i) => {
      const first = Math.floor((i * SLOTS) / masters.length);
      const last = Math.floor(((i + 1) * SLOTS) / masters.length) - 1;
      return node.admin.call('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last));
    }),
  );
}

async function knownNodes(node: Node): Promise<number> {
  const lines = String(await node.admin.call('CLUSTER', 'NODES')).trim().split('\n');
  return lines.filter((line) => !line.includes('handshake')).length;
}

async function isOk(node: Node): Promise<boolean> {
  return String(await node.admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok');
}

/** A replica that has not finished its first sync cannot be promoted: failover tests need it done. */
async function replicasInSync(replicas: Node[]): Promise<boolean> {
  const infos = await Promise.all(replicas.map((node) => node.admin.info('replication')));
  return infos.every((info) => info.includes('master_link_status:up'));
}

/** The id of the master serving `slot`, as `node` sees it. */
async function masterOf(node: Node, slot: number): Promise<string | undefined> {
  const shards = (await node.admin.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string], ...unknown[]]>;
  const shard = shards.find(([first, last]) => slot >= first && slot <= last);
  return shard?.[2][2];
}

async function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** Distinct ports free on their own and with their cluster bus port (port + 10000) free too. */
async function freeClusterPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (!ports.has(port) && (await canListen(port)) && (await canListen(port + 10_000))) ports.add(port);
  }
  return [...ports];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}
