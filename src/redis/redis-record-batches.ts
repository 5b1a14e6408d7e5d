import type { DeviceRecord, RecordUpdate } from '../presence/status-notices/device-record';
import { decodeDeviceRecord, encodeDeviceRecord } from '../presence/status-notices/device-record-codec';
import type { ApplyResult } from '../presence/status-notices/presence-table';

/** What one batch needs of Redis: the two scripts of redis-presence-table-scripts.ts (READ_MANY, COMPARE_AND_SET_MANY). */
export interface RecordBatchCommands {
  /** Parallel to the devices: each one's record, null when there is none. */
  read(devices: readonly BatchDevice[]): Promise<Array<Buffer | null>>;
  /** Parallel to `writes`: 1 when written, else the record held now (null: none). */
  compareAndSet(writes: ReadonlyArray<{ device: BatchDevice; expected: Buffer | null; record: Buffer }>): Promise<Array<1 | Buffer | null>>;
}

export interface BatchDevice {
  hashKey: string;
  clientId: string;
}

type Compute = (held: DeviceRecord | undefined) => RecordUpdate;

/** Called when the device had no record before the update was written (its group may be new to the table). */
type WhenCreated = () => Promise<void>;

interface Job {
  compute: Compute;
  whenCreated: WhenCreated | undefined;
  resolve: (result: ApplyResult | Promise<ApplyResult>) => void;
  reject: (error: Error) => void;
}

interface Pending extends BatchDevice {
  /** In arrival order: each update is computed on the record the previous one left. */
  jobs: Job[];
  held: Buffer | null;
}

export interface RecordBatchesOptions {
  /** Which updates may share one script call: on a Redis Cluster only those of one slot (its bucket key). */
  groupOf: (hashKey: string) => string;
  /** Devices per script call at most: a script blocks Redis while it runs. */
  maxDevices: number;
  /** Compare-and-set rounds per device before its updates fail (other writers keep changing it). */
  maxAttempts: number;
}

/**
 * Applies record updates in batches: every update submitted while the process is busy with one I/O
 * event (a socket read that brought many AMQP deliveries, or many Redis answers) is flushed together
 * on the next tick, as ONE read script and ONE compare-and-set script per group of devices instead of
 * an HGET and a script per update. Measured (docs/status-notices.md): one write syscall per command
 * was half the applying process's CPU.
 *
 * The rule is unchanged: each device's updates are computed in TypeScript (device-record.ts) on the
 * record read, in the order they were submitted, and the result is compare-and-set; a device another
 * writer changed in the meantime is recomputed from the record the script hands back. Each device's
 * write stays atomic and each update resolves only once its record is in Redis (the consumer acks
 * then); a failed script rejects the updates it carried, which the broker redelivers.
 */
export class RecordBatches {
  private pending = new Map<string, Pending>();
  private scheduled = false;

  constructor(
    private readonly commands: RecordBatchCommands,
    private readonly options: RecordBatchesOptions,
  ) {}

  /**
   * Resolves once the update is in Redis; when it created the device's record and `whenCreated` is
   * given, only once that has resolved too (it rejects the update when it rejects).
   */
  submit(hashKey: string, clientId: string, compute: Compute, whenCreated?: WhenCreated): Promise<ApplyResult> {
    return new Promise((resolve, reject) => {
      const id = `${hashKey}\n${clientId}`;
      let device = this.pending.get(id);
      if (!device) {
        device = { hashKey, clientId, jobs: [], held: null };
        this.pending.set(id, device);
      }
      device.jobs.push({ compute, whenCreated, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After every microtask of this I/O event: all its deliveries' updates are in by then.
        process.nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const groups = new Map<string, Pending[]>();
    for (const device of this.pending.values()) {
      const group = this.options.groupOf(device.hashKey);
      let devices = groups.get(group);
      if (!devices) groups.set(group, (devices = []));
      devices.push(device);
    }
    this.pending = new Map();
    for (const devices of groups.values()) {
      for (let from = 0; from < devices.length; from += this.options.maxDevices) {
        void this.run(devices.slice(from, from + this.options.maxDevices));
      }
    }
  }

  /** Never rejects: every job is settled. */
  private async run(devices: Pending[]): Promise<void> {
    try {
      const held = await this.commands.read(devices);
      devices.forEach((device, i) => (device.held = held[i]));
      let todo = devices;
      for (let attempt = 1; todo.length > 0; attempt++) {
        if (attempt > this.options.maxAttempts) {
          const error = new Error(`RedisPresenceTable: ${this.options.maxAttempts} concurrent updates of one device in a row; giving up on this one`);
          for (const device of todo) for (const job of device.jobs) job.reject(error);
          return;
        }
        todo = await this.writeRound(todo);
      }
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const device of devices) for (const job of device.jobs) job.reject(failure);
    }
  }

  /** One compare-and-set round; returns the devices another writer changed, with what they hold now. */
  private async writeRound(devices: Pending[]): Promise<Pending[]> {
    const writes: Array<{ device: Pending; expected: Buffer | null; record: Buffer; results: ApplyResult[] }> = [];
    for (const device of devices) {
      // Bytes this codec cannot read count as no record; the compare-and-set then replaces them.
      let record = device.held ? decodeDeviceRecord(device.held) : undefined;
      let online: boolean | undefined;
      const results: ApplyResult[] = [];
      for (const job of device.jobs) {
        const update = job.compute(record);
        results.push(update.result);
        if (update.record) {
          record = update.record;
          online = update.online === true;
        }
      }
      if (online === undefined || !record) settle(device, results, false);
      else writes.push({ device, expected: device.held, record: encodeDeviceRecord(record, online), results });
    }
    if (writes.length === 0) return [];
    const answers = await this.commands.compareAndSet(writes);
    const again: Pending[] = [];
    writes.forEach(({ device, results }, i) => {
      const answer = answers[i];
      if (answer === 1) {
        settle(device, results, device.held === null);
      } else {
        device.held = answer;
        again.push(device);
      }
    });
    return again;
  }
}

function settle(device: Pending, results: ApplyResult[], created: boolean): void {
  device.jobs.forEach((job, i) => job.resolve(created && job.whenCreated ? job.whenCreated().then(() => results[i]) : results[i]));
}
