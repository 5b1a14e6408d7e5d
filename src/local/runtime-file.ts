import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Where a running local instance can be found, for `npm run devices` (and anyone scripting against
 * it): written by the process that runs the instance (`npm start`, `npm run local-instance`) once it
 * listens, removed when it stops. LOCAL_RUNTIME_FILE says where; no secret in it (the local
 * AccessKey is a fixed development value, and still left out).
 */
export interface LocalInstanceRecord {
  /** The process running the instance: the reader checks it is still alive. */
  pid: number;
  /** `npm start` or `npm run local-instance`. */
  runBy: string;
  mqttUrl: string;
  openApiEndpoint: string;
  instanceId: string;
  /** The GraphQL endpoint, when the instance runs inside the service. */
  graphqlUrl?: string;
  /** Client IDs of the demo devices: the simulator never takes over their sessions. */
  demoDevices: readonly string[];
  startedAt: string;
}

/** Writes the record (atomically: a reader never sees half of it); returns how to remove it at stop. */
export async function writeRuntimeFile(path: string, record: LocalInstanceRecord): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.${process.pid}`;
  await writeFile(partial, `${JSON.stringify(record, null, 2)}\n`);
  await rename(partial, path);
  return async () => {
    // Another instance started since may have replaced it: only ours is removed.
    const current = await readRecord(path).catch(() => undefined);
    if (current?.pid === record.pid) await rm(path, { force: true });
  };
}

/** The record of a local instance this process runs, written when `path` is set; how to remove it at stop. */
export async function recordLocalInstance(
  path: string | undefined,
  local: { mqttUrl: string; endpoint: string; instanceId: string; demoDevices: readonly string[] },
  runBy: string,
  graphqlUrl?: string,
): Promise<() => Promise<void>> {
  if (!path) return async () => undefined;
  const { mqttUrl, endpoint, instanceId, demoDevices } = local;
  return writeRuntimeFile(path, { pid: process.pid, runBy, mqttUrl, openApiEndpoint: endpoint, instanceId, graphqlUrl, demoDevices, startedAt: new Date().toISOString() });
}

/** Why no running instance was found, in words that say what to do. */
export class NoRunningInstanceError extends Error {
  override readonly name = 'NoRunningInstanceError';
}

/** The record of a running local instance, or NoRunningInstanceError saying why there is none. */
export async function findRunningInstance(path: string): Promise<LocalInstanceRecord> {
  const howTo = `start one with \`npm start\` (or \`npm run local-instance\`) and try again, or pass --url mqtt://HOST:PORT for another broker`;
  let record: LocalInstanceRecord;
  try {
    record = await readRecord(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NoRunningInstanceError(`no local instance is running (none recorded in ${path}, LOCAL_RUNTIME_FILE): ${howTo}`);
    throw new NoRunningInstanceError(`${path} (LOCAL_RUNTIME_FILE) is not a local instance record (${(error as Error).message}): ${howTo}`);
  }
  if (!isAlive(record.pid)) {
    throw new NoRunningInstanceError(`the local instance recorded in ${path} (process ${record.pid}, ${record.runBy}) is no longer running: ${howTo}`);
  }
  return record;
}

async function readRecord(path: string): Promise<LocalInstanceRecord> {
  const record = JSON.parse(await readFile(path, 'utf8')) as Partial<LocalInstanceRecord>;
  if (!Number.isInteger(record.pid) || typeof record.mqttUrl !== 'string' || !Array.isArray(record.demoDevices)) throw new Error('pid, mqttUrl or demoDevices missing');
  return record as LocalInstanceRecord;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
