import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

export interface MainProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
  exited: Promise<number | null>;
}

/** `src/main.ts` as `npm start` runs it (compiled on the fly), in its own process, every port picked free. */
export function startMain(env: Record<string, string>): MainProcess {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOCAL_MQTT_PORT: '0', LOCAL_DEMO_DEVICES: '2', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
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
