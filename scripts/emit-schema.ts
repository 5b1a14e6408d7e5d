/**
 * `npm run schema`: writes, from the type-graphql code,
 * - schema/schema.graphql: the subgraph schema, federation directives kept (what a router composes);
 * - schema/client-schema.graphql: the API as clients see it, without federation internals, for plain
 *   tools (graphql-inspector, graphql-eslint, codegen, IDEs).
 * `--check` fails instead of writing when a committed file is stale.
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildClientSdl, buildPresenceSdl } from '../src/graphql/schema';

const SCHEMA_DIR = join(__dirname, '..', 'schema');

async function main(): Promise<void> {
  const files = [
    { file: join(SCHEMA_DIR, 'schema.graphql'), sdl: await buildPresenceSdl() },
    { file: join(SCHEMA_DIR, 'client-schema.graphql'), sdl: await buildClientSdl() },
  ];
  if (process.argv.includes('--check')) {
    const stale = files.filter(({ file, sdl }) => {
      try {
        return readFileSync(file, 'utf8') !== sdl;
      } catch {
        return true;
      }
    });
    for (const { file } of stale) console.error(`${file} is stale: run \`npm run schema\` and commit it`);
    if (stale.length > 0) process.exit(1);
    console.log('schema/ is up to date');
    return;
  }
  for (const { file, sdl } of files) {
    writeFileSync(file, sdl);
    console.log(`wrote ${file}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
