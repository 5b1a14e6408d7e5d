import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
let started = 0;

export interface MainProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
  /** What was written to stdout alone: the log stream. */
  stdout: () => string;
  exited: Promise<number | null>;
}

/**
 * `src/main.ts` as `npm start` runs it (compiled on the fly), in its own process, every port picked
 * free; `prefix` runs it through another command, e.g. `ip netns exec <ns>` (network-namespace.ts).
 */
export function startMain(env: Record<string, string>, prefix: readonly string[] = []): MainProcess {
  return startEntry('src/main.ts', env, { prefix });
}

/**
 * Another entry of the repository (`src/local/local-instance.main.ts`, `src/local/device-simulator.main.ts`)
 * the way startMain runs the service: compiled on the fly, the same environment, with `args`.
 */
export function startEntry(entry: string, env: Record<string, string>, options: { prefix?: readonly string[]; args?: readonly string[] } = {}): MainProcess {
  const command = [...(options.prefix ?? []), process.execPath, '-r', 'ts-node/register/transpile-only', entry, ...(options.args ?? [])];
  const child = spawn(command[0], command.slice(1), {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      // The private HOME of credential-isolation.global.ts (never the real profiles), and never the ECS metadata address.
      HOME: process.env.HOME ?? '/nonexistent',
      ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
      HOST: '127.0.0.1',
      PORT: '0',
      LOCAL_MQTT_PORT: '0',
      LOCAL_DEMO_DEVICES: '2',
      // Its own record of the local instance (runtime-file.ts), never the one a developer's `npm run devices` reads.
      LOCAL_RUNTIME_FILE: join(tmpdir(), `presence-graph-test-${process.pid}-${++started}`, 'local-instance.json'),
      // Production serves the operator endpoints on OPS_PORT (9464 by default): a free one here.
      ...(env.NODE_ENV === 'production' && { OPS_PORT: '0' }),
      ...env,
    },
  });
  let output = '';
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, stdout: () => stdout, exited };
}

/** The GraphQL URL the process logs once ready; rejects if it exits first. */
export function readyUrl(main: Pick<MainProcess, 'output' | 'exited'>): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = /"url":"(http:\/\/[^"]+\/graphql)"/.exec(main.output());
      if (match) {
        clearInterval(timer);
        resolve(match[1]);
      }
    };
    const timer = setInterval(check, 50);
    void main.exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`exited with ${code} before ready:\n${main.output()}`));
    });
  });
}
