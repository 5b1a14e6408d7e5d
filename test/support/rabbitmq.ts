import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The policy of every test that needs RabbitMQ (the same as redis.ts): the real one at RABBITMQ_URL
 * (default guest/guest at 127.0.0.1:5672), and `rabbitmqctl` (root) for the tests that reconfigure
 * it. When one is missing the tests say so loudly and skip; under CI=true they fail instead, because
 * there a skipped test would hide that the status notice consumer never met a broker.
 */
export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** What a test needs: `amqp` a broker answering as guest, `rabbitmqctl` the right to reconfigure it. */
export type RabbitMQNeed = 'amqp' | 'rabbitmqctl';

const PREPARE_SCRIPT = join(__dirname, '..', '..', 'scripts', 'prepare-rabbitmq.sh');
const run = promisify(execFile);
const missing = new Map<RabbitMQNeed, string | undefined>();

/** Synchronous, once per file: jest picks `describe` or `describe.skip` while collecting tests. */
function whyMissing(need: RabbitMQNeed): string | undefined {
  if (!missing.has(need)) missing.set(need, need === 'amqp' ? probeAmqp(RABBITMQ_URL) : probeRabbitmqctl());
  return missing.get(need);
}

function probeAmqp(url: string): string | undefined {
  const script = `
    require('amqplib').connect(process.argv[1], { timeout: 2000 }).then(
      (connection) => connection.close().then(() => process.exit(0)),
      (error) => { process.stderr.write(error.message); process.exit(1); });`;
  const probe = spawnSync(process.execPath, ['-e', script, url], { cwd: process.cwd(), timeout: 5000, encoding: 'utf8' });
  if (probe.status === 0) return undefined;
  return `no RabbitMQ accepts guest at ${url.replace(/\/\/[^@]*@/, '//')} (${probe.stderr.trim() || probe.error?.message || `exit ${probe.status}`})`;
}

function probeRabbitmqctl(): string | undefined {
  const probe = spawnSync('rabbitmqctl', ['-q', 'ping'], { timeout: 10_000, encoding: 'utf8' });
  if (probe.status === 0) return undefined;
  return `rabbitmqctl cannot reach the node (run as root?) (${probe.stderr?.trim() || probe.error?.message || `exit ${probe.status}`})`;
}

/** `describe` when RabbitMQ is there; otherwise one failing test under CI=true, else a loud skip. */
export function describeWithRabbitMQ(name: string, needs: readonly RabbitMQNeed[], body: () => void): void {
  const reasons = needs.map(whyMissing).filter((reason): reason is string => reason !== undefined);
  if (reasons.length === 0) return describe(name, body);
  if (process.env.CI === 'true') {
    return describe(name, () => {
      it('has the RabbitMQ it needs (RabbitMQ is required in CI)', () => {
        throw new Error(`RabbitMQ is required in CI: ${reasons.join('; ')}`);
      });
    });
  }
  console.warn(
    [
      '',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      `!!! SKIPPED "${name}": ${reasons.join('; ')}.`,
      '!!! The status notice consumer is NOT tested against a broker. Start RabbitMQ',
      '!!! (rabbitmq-server -detached) or point RABBITMQ_URL at one. Under CI=true this fails.',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    ].join('\n'),
  );
  describe.skip(name, body);
}

/** scripts/prepare-rabbitmq.sh: vhost MQTT, queue STATUS, logins it does not know asked of `authUrl`. */
export async function pointRabbitMQAuthAt(authUrl: string): Promise<void> {
  await run(PREPARE_SCRIPT, [authUrl], { timeout: 60_000 });
}

/** scripts/prepare-rabbitmq.sh --restore: only the internal backend again. */
export async function restoreRabbitMQAuth(): Promise<void> {
  await run(PREPARE_SCRIPT, ['--restore'], { timeout: 60_000 });
}

/** The broker drops every connection of `username` (and no one else's), as a failover would. */
export async function dropConnectionsOf(username: string): Promise<void> {
  await run('rabbitmqctl', ['-q', 'close_all_user_connections', username, 'test: broker drops the connection'], { timeout: 30_000 });
}
