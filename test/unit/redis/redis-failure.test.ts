import { redisFailureReason } from '../../../src/redis/redis-failure';

describe('Redis failures in our words', () => {
  it.each([
    ["Stream isn't writeable and enableOfflineQueue options is false", 'no connection to Redis'],
    ['Connection is closed.', 'no connection to Redis'],
    ['connect ECONNREFUSED 127.0.0.1:6390', 'Redis refuses connections (not running, or another port)'],
    ['Command timed out', 'Redis did not answer in time'],
    ['WRONGPASS invalid username-password pair or user is disabled.', 'Redis refused the credentials in REDIS_URL'],
    ['CLUSTERDOWN The cluster is down', 'a Redis Cluster slot has no master (CLUSTERDOWN)'],
  ])('%s → %s', (message, reason) => {
    expect(redisFailureReason(new Error(message))).toBe(reason);
  });

  it('keeps a message it does not know (a script error is worth reading as it is)', () => {
    expect(redisFailureReason(new Error('ERR Error running script'))).toBe('ERR Error running script');
  });
});
