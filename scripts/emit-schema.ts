/**
 * `npm run schema`: writes schema/schema.graphql from the type-graphql code, federation directives
 * kept. `--check` fails instead of writing when the committed file is stale.
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPresenceSdl } from '../src/graphql/schema';

const SCHEMA_FILE = join(__dirname, '..', 'schema', 'schema.graphql');

async function main(): Promise<void> {
  const sdl = await buildPresenceSdl();
  if (process.argv.includes('--check')) {
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    if (committed !== sdl) {
      console.error('schema/schema.graphql is stale: run `npm run schema` and commit it');
      process.exit(1);
    }
    console.log('schema/schema.graphql is up to date');
    return;
  }
  writeFileSync(SCHEMA_FILE, sdl);
  console.log(`wrote ${SCHEMA_FILE}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
