import { mkdtempSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRunningInstance, NoRunningInstanceError, writeRuntimeFile, type LocalInstanceRecord } from '../../../src/local/runtime-file';

describe('the local instance runtime file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'presence-graph-runtime-'));
  const record = (pid: number): LocalInstanceRecord => ({
    pid,
    runBy: 'npm start',
    mqttUrl: 'mqtt://127.0.0.1:18830',
    openApiEndpoint: 'http://127.0.0.1:40000',
    instanceId: 'mqtt-local-dev',
    demoDevices: ['GID_demo@@@device-1'],
    startedAt: new Date().toISOString(),
  });

  it('is found while its process runs, and removed at stop', async () => {
    const path = join(dir, 'nested', 'local-instance.json');
    const forget = await writeRuntimeFile(path, record(process.pid));
    await expect(findRunningInstance(path)).resolves.toMatchObject({ mqttUrl: 'mqtt://127.0.0.1:18830', demoDevices: ['GID_demo@@@device-1'] });
    await forget();
    expect(existsSync(path)).toBe(false);
    await expect(findRunningInstance(path)).rejects.toThrow(/no local instance is running \(none recorded in .*LOCAL_RUNTIME_FILE\): start one with `npm start`/);
  });

  it('is not trusted once its process is gone (a crash leaves it behind)', async () => {
    const path = join(dir, 'stale.json');
    // A pid far above Linux's pid_max (4,194,304): no process has it.
    writeFileSync(path, JSON.stringify(record(99_999_999)));
    const finding = findRunningInstance(path);
    await expect(finding).rejects.toBeInstanceOf(NoRunningInstanceError);
    await expect(finding).rejects.toThrow(/process 99999999, npm start\) is no longer running/);
  });

  it("is left alone at stop when another instance has replaced it since", async () => {
    const path = join(dir, 'replaced.json');
    const forgetFirst = await writeRuntimeFile(path, record(process.pid));
    await writeRuntimeFile(path, record(process.ppid));
    await forgetFirst();
    await expect(findRunningInstance(path)).resolves.toMatchObject({ pid: process.ppid });
  });
});
