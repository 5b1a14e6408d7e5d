import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** dist/bench/fleet → the repository root. */
const PREPARE = join(__dirname, '..', '..', '..', 'scripts', 'prepare-rabbitmq.sh');

/** The set-up login for publishing and declaring (guest, vhost MQTT), as scripts/prepare-rabbitmq.sh uses it. */
export const RABBITMQ_SETUP_URL = process.env.BENCH_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
/** Where the signed logins go: the same broker without userinfo. */
export const RABBITMQ_CONSUMER_URL = (() => {
  const url = new URL(RABBITMQ_SETUP_URL);
  return `amqp://${url.hostname}:${url.port || 5672}`;
})();

export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['-q', ...args], { timeout: 60_000 });
  return stdout.trim();
}

/**
 * Where RabbitMQ's HTTP auth backend pointed before the bench touched it: `undefined` when only the
 * internal backend was on (what `prepare-rabbitmq.sh --restore` gives back), else the base URL
 * (`…/auth`) another run or `npm start` may be relying on.
 */
export async function authSnapshot(): Promise<string | undefined> {
  const backends = await rabbitmqctl('eval', 'application:get_env(rabbit, auth_backends).');
  if (!backends.includes('rabbit_auth_backend_http')) return undefined;
  const userPath = await rabbitmqctl('eval', 'application:get_env(rabbitmq_auth_backend_http, user_path).');
  const match = /"(https?:\/\/[^"]+)\/user"/.exec(userPath);
  return match?.[1];
}

/** scripts/prepare-rabbitmq.sh AUTH_URL: vhost MQTT, queue STATUS, unknown logins asked of `authUrl`. */
export async function pointAuthAt(authUrl: string): Promise<void> {
  await run('bash', [PREPARE, authUrl], { timeout: 120_000 });
}

/** Back to what `authSnapshot` saw: the script's --restore, or the URL that was there. */
export async function restoreAuth(previous: string | undefined): Promise<string> {
  if (previous === undefined) {
    await run('bash', [PREPARE, '--restore'], { timeout: 60_000 });
    return '`scripts/prepare-rabbitmq.sh --restore`';
  }
  await pointAuthAt(previous);
  return `pointed back at ${previous}, where it was`;
}

/** Consumers on the queue STATUS of vhost MQTT (a competing consumer would take some of the bench's notices). */
export async function statusConsumers(): Promise<number> {
  const lines = await rabbitmqctl('list_queues', '-p', 'MQTT', 'name', 'consumers');
  const line = lines.split('\n').find((l) => l.split(/\s+/)[0] === 'STATUS');
  return line ? Number(line.split(/\s+/)[1]) : 0;
}

/**
 * An internal RabbitMQ user whose name and password are exactly one signed login (amqp-login.ts) at a
 * fixed ts: the consumer's real signed login is then accepted by the internal backend, without the
 * HTTP auth backend that other engineers' tests repoint concurrently.
 */
export async function addSignedUser(username: string, password: string): Promise<void> {
  await rabbitmqctl('add_user', username, password);
  await rabbitmqctl('set_permissions', '-p', 'MQTT', username, '.*', '.*', '.*');
}

export async function deleteUser(username: string): Promise<void> {
  await rabbitmqctl('delete_user', username).catch(() => undefined);
}

/**
 * A reader of the broker's CPU time (user + system, µs) from /proc, when it runs on this machine;
 * undefined otherwise. The bench holds the RabbitMQ lock while it measures, so the broker's CPU over a
 * timed consume is that consume's (and the broker's own housekeeping).
 */
export async function rabbitmqCpuMicros(): Promise<(() => number) | undefined> {
  const pid = /"?(\d+)"?/.exec(await rabbitmqctl('eval', 'os:getpid().').catch(() => ''))?.[1];
  const stat = pid && `/proc/${pid}/stat`;
  if (!stat || !existsSync(stat)) return undefined;
  // Fields 14 and 15 (utime, stime) after the command name, in clock ticks (USER_HZ, 100 on Linux).
  return () => {
    const fields = readFileSync(stat, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  };
}
