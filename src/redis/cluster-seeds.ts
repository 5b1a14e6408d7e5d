import type { ClusterNode, RedisOptions } from 'ioredis';

/** How every node of the cluster is logged into: the same for all, as one cluster has one ACL. */
type NodeAuth = Pick<RedisOptions, 'username' | 'password' | 'tls'>;

/**
 * The seed nodes named by REDIS_URL in cluster mode: `redis://[user:password@]host[:port]`, or
 * `rediss://` for TLS, comma-separated. One seed is enough (the client asks it for the others);
 * more let the service start while one of them is down. Errors never quote a URL: it may hold the
 * password.
 */
export function clusterSeeds(urls: string): { seeds: ClusterNode[]; auth: NodeAuth } {
  const parsed = urls.split(',').map((raw, i) => seed(raw.trim(), i + 1));
  const [first] = parsed;
  if (parsed.some((one) => one.signature !== first.signature)) {
    throw new TypeError('createRedisClient: the cluster seed URLs differ in scheme, user or password; one cluster has one of each');
  }
  return { seeds: parsed.map((one) => one.node), auth: first.auth };
}

function seed(raw: string, position: number): { node: ClusterNode; auth: NodeAuth; signature: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`createRedisClient: cluster seed ${position} is not a URL such as redis://10.0.0.1:6379 (not shown: it may hold a password)`);
  }
  if ((url.protocol !== 'redis:' && url.protocol !== 'rediss:') || !url.hostname) {
    throw new TypeError(`createRedisClient: cluster seed ${position} must be a redis:// or rediss:// URL with a host`);
  }
  // SELECT is refused by a cluster: every key lives in database 0.
  if (url.pathname !== '' && url.pathname !== '/' && url.pathname !== '/0') {
    throw new TypeError(`createRedisClient: cluster seed ${position} names a database; a Redis Cluster has only database 0`);
  }
  const username = decodeURIComponent(url.username) || undefined;
  const password = decodeURIComponent(url.password) || undefined;
  const auth: NodeAuth = { username, password, ...(url.protocol === 'rediss:' ? { tls: {} } : {}) };
  return {
    // An IPv6 host comes bracketed in a URL, bare in a socket address.
    node: { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : 6379 },
    auth,
    signature: JSON.stringify([url.protocol, username, password]),
  };
}
