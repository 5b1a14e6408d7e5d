import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postGraphQL } from '../support/graphql-client';
import { readyUrl, startEntry, startMain, type MainProcess } from '../support/main-process';
import { waitFor } from '../support/wait-for';

const SIMULATOR = 'src/local/device-simulator.main.ts';

// Each process compiles the service on the fly (ts-node): seconds of CPU, many more on a busy machine.
jest.setTimeout(120_000);

describe('npm run devices with no --url', () => {
  const runtimeFile = join(mkdtempSync(join(tmpdir(), 'presence-graph-devices-')), 'local-instance.json');
  let service: MainProcess;
  let url: string;
  const simulators: MainProcess[] = [];
  beforeAll(async () => {
    // LOCAL_MQTT_PORT=0 (startMain's default): the broker is not on 1883, where Mosquitto may be.
    service = startMain({ LOCAL_RUNTIME_FILE: runtimeFile });
    url = await readyUrl(service);
  });
  afterAll(async () => {
    for (const main of [...simulators, service]) {
      main?.child.kill('SIGTERM');
      await main?.exited;
    }
  });

  it("connects to the running service's broker, wherever it listens: the service sees the devices online", async () => {
    const simulator = startEntry(SIMULATOR, { LOCAL_RUNTIME_FILE: runtimeFile }, { args: ['--count', '2'] });
    simulators.push(simulator);
    await waitFor('the devices to connect', () => simulator.output().includes('2 devices connected'), 60_000);
    const mqttUrl = /"mqttUrl":"(mqtt:\/\/[^"]+)"/.exec(service.output())![1];
    expect(simulator.output()).toContain(`2 devices connected to ${mqttUrl}`);
    const answer = await postGraphQL(url, '{ devices(clientIds: ["GID_demo@@@sim-1", "GID_demo@@@sim-2"]) { online(exact: true) } }');
    expect(answer.data).toEqual({ devices: [{ online: true }, { online: true }] });
  });

  it('says no local instance runs, and what to do, when none is recorded', async () => {
    const simulator = startEntry(SIMULATOR, { LOCAL_RUNTIME_FILE: join(tmpdir(), `presence-graph-none-${process.pid}.json`) });
    simulators.push(simulator);
    expect(await simulator.exited).toBe(1);
    expect(simulator.output()).toContain('no local instance is running');
    expect(simulator.output()).toContain('start one with `npm start` (or `npm run local-instance`)');
    expect(simulator.output()).not.toContain('connected');
  });
});
