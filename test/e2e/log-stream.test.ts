import { makeApiKey } from '../support/credentials';
import { readyUrl, startEntry, startMain, type MainProcess } from '../support/main-process';
import { describeWithRedis, REDIS_URL } from '../support/redis';
import { waitFor } from '../support/wait-for';

/** REDIS_URL with a password Redis does not ask for: ioredis then prints a plain `[WARN]` line. */
function withUnneededPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = 'not-asked-for';
  return parsed.toString();
}

function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

// Each process compiles the service on the fly (ts-node): seconds of CPU, many more on a busy machine.
jest.setTimeout(120_000);

describeWithRedis('the log stream of the processes', ['redis'], () => {
  const router = makeApiKey('router', { instances: ['*'], groups: ['*'] });
  let json: MainProcess;
  let pretty: MainProcess;
  let localInstance: MainProcess;
  beforeAll(async () => {
    // Started at once: each compiles on the fly (seconds of CPU).
    json = startMain({
      REDIS_URL: withUnneededPassword(REDIS_URL),
      REDIS_KEY_PREFIX: `log-stream-${process.pid}:`,
      AUTH_MODE: 'apikey',
      API_KEYS: JSON.stringify([router.entry]),
      // Apollo's inline trace plugin says "Enabling inline tracing for this subgraph" at every start.
      INLINE_TRACE_CALLERS: 'router',
    });
    pretty = startMain({ LOG_FORMAT: 'pretty' });
    localInstance = startEntry('src/local/local-instance.main.ts', { LOG_FORMAT: 'json' });
    await Promise.all([readyUrl(json), waitFor('the pretty start line', () => pretty.output().includes('Presence Graph ready at'), 60_000)]);
    await waitFor('the local instance to start', () => localInstance.output().includes('Ctrl-C stops it'), 60_000);
  });
  afterAll(async () => {
    for (const main of [json, pretty, localInstance]) {
      main?.child.kill('SIGTERM');
      await main?.exited;
    }
  });

  it('holds JSON lines only: ioredis warnings in our words, Apollo lines ours, nothing on stderr', async () => {
    await waitFor('the Redis password warning', () => json.stdout().includes('REDIS_URL carries a password'));
    const lines = jsonLines(json.stdout());
    expect(lines.find((line) => String(line.msg).includes('REDIS_URL carries a password'))).toMatchObject({ level: 40, service: 'presence-graph' });
    expect(json.output()).not.toContain('[WARN]');
    expect(json.output()).not.toContain('Enabling inline tracing');
    expect(json.output()).not.toContain('not-asked-for');
    expect(json.output()).toBe(json.stdout());
    // One time format: ISO, as the local instance's lines below.
    for (const line of lines) expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('is readable lines with LOG_FORMAT=pretty (as when stdout is a terminal), not JSON', () => {
    const ready = pretty
      .stdout()
      .split('\n')
      .find((line) => line.includes('Presence Graph ready at'))!;
    expect(ready).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Presence Graph ready at http:\/\//);
    expect(() => JSON.parse(ready)).toThrow();
  });

  it('is the same for npm run local-instance: the service fields and ISO times, its summary on stderr', () => {
    const lines = jsonLines(localInstance.stdout());
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatchObject({ service: 'presence-graph', name: 'local-instance', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
    expect(localInstance.stdout()).not.toContain('Local ApsaraMQ for MQTT instance');
    expect(localInstance.output()).toContain('Local ApsaraMQ for MQTT instance');
  });
});
