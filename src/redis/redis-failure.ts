/**
 * Why a Redis command failed, in the operator's words rather than ioredis' internals ("Stream isn't
 * writeable and enableOfflineQueue options is false" means the connection is down). Unknown errors
 * keep their own message: a script or protocol error is worth reading as it is.
 */
const REASONS: ReadonlyArray<[RegExp, string]> = [
  [/Stream isn't writeable|enableOfflineQueue|Connection is closed|ECONNRESET|EPIPE/, 'no connection to Redis'],
  [/ECONNREFUSED/, 'Redis refuses connections (not running, or another port)'],
  [/ETIMEDOUT|connect ETIMEDOUT/, 'no answer while connecting to Redis'],
  [/ENOTFOUND|EAI_AGAIN/, 'the host name in REDIS_URL does not resolve'],
  [/Command timed out/, 'Redis did not answer in time'],
  [/NOAUTH|WRONGPASS|invalid password|invalid username-password/i, 'Redis refused the credentials in REDIS_URL'],
  [/CLUSTERDOWN/, 'a Redis Cluster slot has no master (CLUSTERDOWN)'],
  [/Failed to refresh slots cache|None of startup nodes is available|Cluster isn't ready/, 'no Redis Cluster node answers'],
  [/Too many Cluster redirections/, 'the Redis Cluster kept redirecting the command'],
];

export function redisFailureReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  for (const [pattern, reason] of REASONS) if (pattern.test(message)) return reason;
  return message;
}

/**
 * ioredis writes a few warnings with console.warn ("[WARN] Redis server does not require a password,
 * but a password was supplied."): our wording for them, or undefined for a line that is not one.
 */
export function redisConsoleWarning(line: string): string | undefined {
  if (/does not require a password, but a password was supplied/.test(line)) {
    return 'REDIS_URL carries a password but Redis requires none: it is ignored; remove it from REDIS_URL, or turn on authentication in Redis';
  }
  if (/wrong number of arguments for 'auth' command/.test(line)) {
    return 'REDIS_URL names a user, which Redis 5 and older do not know: give only the password (redis://:PASSWORD@host:6379)';
  }
  if (/Skipping the ready check because INFO command fails/.test(line)) return 'Redis refuses the INFO command: connected without checking that it is ready';
  return undefined;
}
