import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { LOCAL_DEFAULTS } from '../../src/config';
import { postGraphQL } from '../support/graphql-client';

const root = join(__dirname, '..', '..');

/** `src/main.ts` as `npm start` runs it (compiled on the fly), in its own process. */
function startMain(env: Record<string, string>): { child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> } {
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

function readyUrl(output: () => string, exited: Promise<number | null>): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = /"url":"(http:\/\/[^"]+\/graphql)"/.exec(output());
      if (match) {
        clearInterval(timer);
        resolve(match[1]);
      }
    };
    const timer = setInterval(check, 50);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`exited with ${code} before ready:\n${output()}`));
    });
  });
}

describe('the service process', () => {
  it('starts with no configuration on the local instance, answers, and drains and exits 0 on SIGTERM', async () => {
    const main = startMain({});
    try {
      const url = await readyUrl(main.output, main.exited);
      const response = await postGraphQL(url, '{ devices(clientIds: ["GID_demo@@@device-1", "GID_demo@@@device-9"]) { online(exact: true) } }');
      expect(response.data).toEqual({ devices: [{ online: true }, { online: false }] });

      main.child.kill('SIGTERM');
      expect(await main.exited).toBe(0);
      expect(main.output()).toMatch(/"msg":"stopped"/);
      expect(main.output()).not.toContain(LOCAL_DEFAULTS.accessKeySecret);
    } finally {
      main.child.kill('SIGKILL');
    }
  });

  it('refuses to start on a bad setting with a message naming it, and exit code 2', async () => {
    const main = startMain({ UPSTREAM_BATCH_QPS: 'lots' });
    expect(await main.exited).toBe(2);
    expect(main.output()).toContain('UPSTREAM_BATCH_QPS must be a whole number from 1 to 100000; got "lots"');
  });
});
