/**
 * Builds the self-hosted GraphiQL page into dist/graphiql/ (run by `npm run build`, and by the
 * tests that serve the page): web/graphiql/main.ts with React, GraphiQL and their CSS bundled by
 * esbuild, and an index.html that loads them by relative URL. Nothing in the output refers to any
 * other host; the build fails if it finds an absolute http(s) URL that could be fetched.
 *
 * Files are written to a temporary folder and renamed into place one by one (atomic on POSIX), so a
 * server reading dist/graphiql/ while another build runs (parallel test workers) never sees half a file.
 */
import { build } from 'esbuild';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'dist', 'graphiql');
const tmpDir = join(root, 'dist', `.graphiql-build-${process.pid}`);

const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Presence Graph · GraphiQL</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="graphiql/graphiql.css" />
    <script defer src="graphiql/graphiql.js"></script>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
  </body>
</html>
`;

await rm(tmpDir, { recursive: true, force: true });
try {
  await build({
    entryPoints: { graphiql: join(root, 'web', 'graphiql', 'main.ts') },
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
  await assertNoRemoteLoads(tmpDir);
  await mkdir(outDir, { recursive: true });
  for (const name of await readdir(tmpDir)) await rename(join(tmpDir, name), join(outDir, name));
} finally {
  await rm(tmpDir, { recursive: true, force: true });
}
console.log(`GraphiQL built into ${outDir}`);

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
