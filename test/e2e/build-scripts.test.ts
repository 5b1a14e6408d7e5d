import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildGraphiQL } from '../support/graphiql-bundle';

const root = join(__dirname, '..', '..');
const run = promisify(execFile);
const OUTPUTS = ['graphiql.js', 'graphiql.css', 'live.js', 'live.html', 'index.html'].map((name) => join(root, 'dist', 'graphiql', name));

// The first build of a fresh clone bundles GraphiQL: seconds, many more on a busy machine.
jest.setTimeout(120_000);

describe('the build behind npm start, devices and local-instance', () => {
  it('leaves the web bundle alone, nothing rebuilt or rewritten, while none of its inputs changed', async () => {
    await buildGraphiQL();
    const before = OUTPUTS.map((path) => statSync(path).mtimeMs);
    const { stdout } = await run(process.execPath, [join(root, 'scripts', 'build-graphiql.mjs')], { cwd: root });
    expect(stdout).toContain('up to date');
    expect(OUTPUTS.map((path) => statSync(path).mtimeMs)).toEqual(before);
  });

  it('never compiles into dist/src (what a running service loads) for npm run devices or local-instance', async () => {
    const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const name of ['devices', 'local-instance']) {
      expect(scripts[`pre${name}`]).toBeUndefined();
      expect(scripts[name]).not.toMatch(/\btsc\b|npm run build|dist\/src/);
    }
    // What the devices script runs: its own bundle under dist/tools/, which works on its own.
    await run(process.execPath, [join(root, 'scripts', 'build-tools.mjs'), 'device-simulator'], { cwd: root });
    const { stdout } = await run(process.execPath, [join(root, 'dist', 'tools', 'device-simulator.js'), '--help'], { cwd: root });
    expect(stdout).toMatch(/^usage: npm run devices/);
  });
});
