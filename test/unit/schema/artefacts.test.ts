import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildPresenceSdl } from '../../../src/graphql/schema';

const root = join(__dirname, '..', '..', '..');

describe('schema artefacts', () => {
  it('schema/schema.graphql is exactly what the code emits (run `npm run schema` when this fails)', async () => {
    const committed = readFileSync(join(root, 'schema', 'schema.graphql'), 'utf8');
    expect(committed).toBe(await buildPresenceSdl());
  });

  it('keeps the federation directives in the emitted schema', async () => {
    const sdl = await buildPresenceSdl();
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.3"');
    expect(sdl).toMatch(/type Device @key\(fields: "clientId"\)/);
  });

  it('generated/ is what GraphQL Code Generator makes of schema/ (run `npm run codegen` when this fails)', async () => {
    const cli = join(root, 'node_modules', '.bin', 'graphql-codegen');
    await expect(promisify(execFile)(cli, ['--config', 'codegen.yml', '--check'], { cwd: root })).resolves.toBeDefined();
  });
});
