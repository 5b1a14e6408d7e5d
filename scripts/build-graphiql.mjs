/**
 * Builds the self-hosted GraphiQL page into dist/graphiql/ (run by `npm run build`, and by the
 * tests that serve the page): web/graphiql/main.ts with React, GraphiQL and their CSS bundled by
 * esbuild, and an index.html that loads them by relative URL. The live presence page (/live,
 * web/live/main.ts, plain TypeScript with graphql-ws) is built beside it: live.js, live.css (also the
 * landing page's styles) and live.html, served by src/server/web/pages.ts. Nothing in the output refers to any
 * other host; the build fails if it finds an absolute http(s) URL that could be fetched.
 *
 * Files are written to a temporary folder and renamed into place one by one (atomic on POSIX), so a
 * server reading dist/graphiql/ while another build runs (parallel test workers) never sees half a file.
 *
 * Incremental: the build records every file esbuild read (its metafile inputs, this script included)
 * with size and modification time in dist/graphiql/build-inputs.json, written last; while none of
 * them changed, nothing is built or written (`--force` builds anyway). So `npm start` does not pay
 * for, nor rewrite under a running service, a bundle whose sources did not change.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'dist', 'graphiql');
const tmpDir = join(root, 'dist', `.graphiql-build-${process.pid}`);
const STAMP = 'build-inputs.json';
const OUTPUTS = ['graphiql.js', 'graphiql.css', 'live.js', 'live.css', 'index.html', 'live.html'];

/**
 * One page of the service: its assets by relative URL (dist/graphiql/NAME.js and .css, served under
 * /graphiql/), so the page works wherever it is mounted; nothing from another host.
 */
function page(title, asset, body) {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Presence Graph · ${title}</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="graphiql/${asset}.css" />
    <script defer src="graphiql/${asset}.js"></script>
  </head>
  <body>
${body}  </body>
</html>
`;
}

const INDEX_HTML = page('GraphiQL', 'graphiql', `    <div id="graphiql">Loading GraphiQL…</div>
`);

// The live page, at /live: its assets by relative URL too (/graphiql/live.js from /live).
const LIVE_HTML = page('Live', 'live', `    <h1>Live presence</h1>
    <p class="lead">Driven by the public API: <code>presenceChanged</code> over WebSocket for the devices, <code>groupPresence</code> polled every 2 s for the plot. <a href="./">Home</a> · <a href="graphql">GraphiQL</a> · connection: <span id="connection">connecting…</span></p>
    <form id="api-key" autocomplete="off">
      <input id="key" type="password" placeholder="API key (AUTH_MODE=apikey or jwt; kept in this page only)" aria-label="API key" />
      <button type="submit">Use key</button>
    </form>
    <section>
      <h2>Devices</h2>
      <form id="add-device" autocomplete="off">
        <input id="client-id" type="text" placeholder="GID_demo@@@device-9 (Client IDs to watch, comma-separated)" aria-label="Client ID to watch" />
        <button type="submit">Watch</button>
      </form>
      <table>
        <thead><tr><th>Device</th><th>Status</th><th>Last change</th></tr></thead>
        <tbody id="devices"></tbody>
      </table>
    </section>
    <section>
      <h2>Online in <code id="group-id"></code>, last 5 minutes</h2>
      <p class="legend"><span class="online">━ online</span> · <span class="known">┅ known</span> · <span id="group-status">polling…</span></p>
      <div id="plot"></div>
    </section>
`);

if (!process.argv.includes('--force') && (await upToDate())) {
  console.log(`GraphiQL and the live page are up to date in ${outDir}`);
  process.exit(0);
}
await rm(tmpDir, { recursive: true, force: true });
try {
  // Loaded only when building: the up-to-date check stays a handful of stat calls.
  const { build } = await import('esbuild');
  const { metafile } = await build({
    metafile: true,
    entryPoints: { graphiql: join(root, 'web', 'graphiql', 'main.ts'), live: join(root, 'web', 'live', 'main.ts') },
    outdir: tmpDir,
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome109', 'edge109', 'firefox115', 'safari15.4'],
    loader: { '.graphql': 'text' },
    define: { 'process.env.NODE_ENV': '"production"' },
    // Licence texts of the bundled packages, in one file next to the bundle.
    legalComments: 'linked',
    logLevel: 'warning',
  });
  await writeFile(join(tmpDir, 'index.html'), INDEX_HTML);
  await writeFile(join(tmpDir, 'live.html'), LIVE_HTML);
  await assertNoRemoteLoads(tmpDir);
  const stamp = await inputsStamp([fileURLToPath(import.meta.url), ...Object.keys(metafile.inputs).map((input) => resolve(root, input))]);
  await mkdir(outDir, { recursive: true });
  // The stamp last: present only once every file it vouches for is in place.
  for (const name of await readdir(tmpDir)) await rename(join(tmpDir, name), join(outDir, name));
  await writeFile(join(outDir, `${STAMP}.${process.pid}`), JSON.stringify(stamp));
  await rename(join(outDir, `${STAMP}.${process.pid}`), join(outDir, STAMP));
} finally {
  await rm(tmpDir, { recursive: true, force: true });
}
console.log(`GraphiQL and the live page built into ${outDir}`);

/** Each input (relative to the root) with its size and modification time. */
async function inputsStamp(paths) {
  const stamp = {};
  for (const path of [...new Set(paths)].sort()) {
    const { size, mtimeMs } = await stat(path);
    stamp[relative(root, path)] = [size, mtimeMs];
  }
  return stamp;
}

/** Whether the outputs exist and every input recorded by the last build is as it was then. */
async function upToDate() {
  try {
    const recorded = JSON.parse(await readFile(join(outDir, STAMP), 'utf8'));
    for (const name of OUTPUTS) await stat(join(outDir, name));
    for (const [path, [size, mtimeMs]] of Object.entries(recorded)) {
      const now = await stat(join(root, path));
      if (now.size !== size || now.mtimeMs !== mtimeMs) return false;
    }
    return Object.keys(recorded).length > 0;
  } catch {
    return false; // no stamp, an output or an input missing: build
  }
}

/**
 * The HTML and CSS must not load anything from another host (an `@import`, a `url(http…)`, a
 * `src="http…"`). Scripts are checked by the browser test, which blocks and records any request
 * to another host: bundled libraries hold many URLs in strings (docs links, spec URLs) that are
 * never fetched, so a text search there would only cry wolf.
 */
async function assertNoRemoteLoads(dir) {
  const remote = /(?:url\(\s*["']?|@import\s+["']?|(?:src|href)\s*=\s*["']?)(?:https?:)?\/\//i;
  for (const name of await readdir(dir)) {
    if (!/\.(html|css)$/.test(name)) continue;
    const text = await readFile(join(dir, name), 'utf8');
    const match = remote.exec(text);
    if (match) throw new Error(`${name} would load from another host: …${text.slice(match.index, match.index + 80)}…`);
  }
}
