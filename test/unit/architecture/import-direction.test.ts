import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';

/**
 * The folders of src/ and whom each may import (docs/architecture.md, "Who may import whom"): imports
 * point from the server down to the core, never back up, so a lower layer never learns about HTTP,
 * WebSocket or the composition root. `main.ts`, `presence-graph.ts` and `presence-core.ts` are the
 * composition root (with `presence-notices.ts`) and may import everything.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  common: [],
  config: ['common'],
  presence: ['common', 'config'],
  upstream: ['presence', 'common', 'config'],
  local: ['presence', 'common', 'config', 'upstream'],
  redis: ['presence', 'common', 'config'],
  graphql: ['presence', 'common', 'config'],
  server: ['common', 'config', 'presence', 'upstream', 'local', 'redis', 'graphql'],
};
const COMPOSITION_ROOT = ['main.ts', 'presence-graph.ts', 'presence-core.ts', 'presence-notices.ts', 'presence-instance-notices.ts'];

const SRC = resolve(__dirname, '../../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `presence`, `server`, …, or the file name for a file at the top of src/. */
function folderOf(file: string): string {
  return relative(SRC, file).split(sep)[0];
}

/** Every relative import of a file (static, `import type`, re-exports, dynamic `import()` and `require`). */
function relativeImports(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((imported) => imported.fileName).filter((name) => name.startsWith('.'));
}

/** What is wrong with `file` importing `specifiers`, by the table; empty when nothing is. */
function violationsOf(file: string, specifiers: readonly string[]): string[] {
  const from = folderOf(file);
  if (COMPOSITION_ROOT.includes(from)) return [];
  const allowed = MAY_IMPORT[from];
  if (!allowed) return [`${relative(SRC, file)}: ${from} is not in the import table; add it there and to docs/architecture.md`];
  return specifiers.flatMap((specifier) => {
    const target = resolve(dirname(file), specifier);
    if (!target.startsWith(SRC + sep)) return [`${relative(SRC, file)} imports ${specifier}, outside src/`];
    const to = folderOf(target);
    return to === from || allowed.includes(to) ? [] : [`${relative(SRC, file)} (${from}/) imports ${specifier} (${to})`];
  });
}

describe('the import direction of src/', () => {
  it('has no import against the table: every folder imports only the folders below it', () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap((file) => violationsOf(file, relativeImports(file)))).toEqual([]);
  });

  it('refuses the upward imports it was written against: redis/ and graphql/ reaching into server/', () => {
    expect(violationsOf(join(SRC, 'redis', 'redis-client.ts'), ['../server/observability/metrics'])).toHaveLength(1);
    expect(violationsOf(join(SRC, 'graphql', 'context.ts'), ['../server/auth/authenticator'])).toHaveLength(1);
    expect(violationsOf(join(SRC, 'presence', 'types.ts'), ['../graphql/errors', '../../package.json'])).toHaveLength(2);
    expect(violationsOf(join(SRC, 'server', 'ws', 'graphql-ws.ts'), ['../../graphql/schema', '../http/http-app'])).toEqual([]);
    expect(violationsOf(join(SRC, 'presence-graph.ts'), ['./server/presence-service'])).toEqual([]);
  });

  it('reads process.env in the configuration loader only', () => {
    const readers = sourceFiles(SRC).filter((file) => /\bprocess\.env\b/.test(readFileSync(file, 'utf8')));
    expect(readers.map((file) => relative(SRC, file))).toEqual([join('config', 'index.ts')]);
  });
});
