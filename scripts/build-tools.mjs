/**
 * Builds the local tools, `npm run devices` and `npm run local-instance`, into one file each under
 * dist/tools/ (esbuild, our sources bundled, packages left to node_modules). They never compile into
 * dist/src/, which a running `npm start` loads: starting the simulator beside a running service must
 * not rewrite the service under it. Each file is written beside its target and renamed into place
 * (atomic on POSIX), so a tool already running keeps what it loaded and another starting reads a whole
 * file. Takes a fraction of a second: no incremental bookkeeping needed.
 */
import { build } from 'esbuild';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'dist', 'tools');
const TOOLS = {
  'device-simulator': 'src/local/device-simulator.main.ts',
  'local-instance': 'src/local/local-instance.main.ts',
};

const only = process.argv.slice(2);
await mkdir(outDir, { recursive: true });
for (const [name, entry] of Object.entries(TOOLS)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const target = join(outDir, `${name}.js`);
  const partial = `${target}.${process.pid}`;
  await build({
    entryPoints: [join(root, entry)],
    outfile: partial,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  await rename(partial, target);
}
