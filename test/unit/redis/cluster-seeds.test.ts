import { clusterSeeds } from '../../../src/redis/cluster-seeds';
import { redisHostForLogs } from '../../../src/redis/redis-client';

/** REDIS_URL in cluster mode (REDIS_CLUSTER=true): comma-separated seed nodes of one cluster. */
describe('clusterSeeds', () => {
  it('reads each seed node and the one login they share, TLS for rediss://', () => {
    expect(clusterSeeds('rediss://svc:p%40ss@10.0.0.1:7000, rediss://svc:p%40ss@10.0.0.2,rediss://svc:p%40ss@[::1]:7002/0')).toEqual({
      seeds: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      auth: { username: 'svc', password: 'p@ss', tls: {} },
    });
    expect(clusterSeeds('redis://10.0.0.1:7000')).toEqual({ seeds: [{ host: '10.0.0.1', port: 7000 }], auth: { username: undefined, password: undefined } });
  });

  it('refuses seeds it cannot use, naming which one, never quoting it (it may hold a password)', () => {
    const refusal = (urls: string) => {
      try {
        clusterSeeds(urls);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal('redis://a:7000,not a url:secret')).toMatch(/cluster seed 2 is not a URL/);
    expect(refusal('http://a:7000')).toMatch(/cluster seed 1 must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(refusal('redis://a:7000/2')).toMatch(/cluster seed 1 names a database; a Redis Cluster has only database 0/);
    expect(refusal('redis://:hunter2-a@a:7000,redis://:hunter2-b@b:7000')).toMatch(/differ in scheme, user or password/);
    expect(refusal('redis://a:7000,rediss://b:7000')).toMatch(/differ in scheme/);
    for (const message of [refusal('redis://a:7000,not a url:secret'), refusal('redis://:hunter2-a@a:7000,redis://:hunter2-b@b:7000')]) {
      expect(message).not.toMatch(/secret|hunter2/);
    }
  });
});

describe('redisHostForLogs', () => {
  it('gives the scheme and host of every seed, without the password', () => {
    expect(redisHostForLogs('redis://:secret@10.0.0.1:7000,redis://:secret@10.0.0.2:7001')).toBe('redis://10.0.0.1:7000,redis://10.0.0.2:7001');
    expect(redisHostForLogs('rediss://user:secret@cache.internal:6380/0')).toBe('rediss://cache.internal:6380');
  });
});
