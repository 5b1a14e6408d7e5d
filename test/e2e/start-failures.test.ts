import { createServer, type Server } from 'node:net';
import { startMain, type MainProcess } from '../support/main-process';

/** A listener on 127.0.0.1 holding a free port, as another program would. */
async function occupied(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

/** Every stdout line parsed: the log stream holds JSON lines only (a plain line fails here). */
function jsonLines(main: MainProcess): Array<Record<string, unknown>> {
  return main
    .stdout()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

// Each process compiles the service on the fly (ts-node): seconds of CPU, many more on a busy machine.
jest.setTimeout(120_000);

describe('a start that cannot listen', () => {
  let holder: { port: number; server: Server };
  // The three processes start at once (each compiles the service on the fly: seconds of CPU).
  let starts: Record<'port' | 'opsPort' | 'mqttPort', MainProcess>;
  beforeAll(async () => {
    holder = await occupied();
    starts = {
      port: startMain({ PORT: String(holder.port) }),
      opsPort: startMain({ OPS_PORT: String(holder.port) }),
      mqttPort: startMain({ LOCAL_MQTT_PORT: String(holder.port) }),
    };
  });
  afterAll(async () => {
    for (const main of Object.values(starts)) main.child.kill('SIGKILL');
    await new Promise((resolve) => holder.server.close(resolve));
  });

  it('stops before starting anything when PORT is taken, naming PORT in one fatal JSON line', async () => {
    const main = starts.port;
    expect(await main.exited).toBe(1);
    const lines = jsonLines(main);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 60,
        setting: 'PORT',
        msg: `failed to start: PORT=${holder.port}: port ${holder.port} on 127.0.0.1 is already in use by another process; set PORT to a free port (0 picks one), or stop what holds it`,
      }),
    ]);
    // Not after the local instance started, and no Apollo line after it.
    expect(main.output()).not.toMatch(/local instance started|MQTT broker listening|EADDRINUSE|apollo/i);
  });

  it('names OPS_PORT when the operator port is the one taken', async () => {
    const main = starts.opsPort;
    expect(await main.exited).toBe(1);
    expect(jsonLines(main)).toEqual([expect.objectContaining({ level: 60, setting: 'OPS_PORT', msg: expect.stringContaining(`set OPS_PORT to a free port`) })]);
  });

  it('names LOCAL_MQTT_PORT when the embedded broker cannot have the port it was given, and starts nothing else', async () => {
    const main = starts.mqttPort;
    expect(await main.exited).toBe(1);
    const fatal = jsonLines(main).filter((line) => line.level === 60);
    expect(fatal).toEqual([expect.objectContaining({ setting: 'LOCAL_MQTT_PORT', msg: expect.stringContaining(`set LOCAL_MQTT_PORT to a free port`) })]);
    expect(main.output()).not.toMatch(/local instance started|Presence Graph ready|EADDRINUSE/);
  });
});
