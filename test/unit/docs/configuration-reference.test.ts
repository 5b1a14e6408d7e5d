import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIGURATION_REFERENCE, namesInFirstColumn } from '../../support/configuration-reference';

/**
 * docs/configuration.md is the reference of every environment variable: each one the configuration
 * reads (src/config/, the only reader of the environment) has a row there, and the reference names
 * none that nothing reads. Variables read by @alicloud/credentials or by Node itself are listed apart,
 * under their own headings, and are not counted as the configuration's.
 */
const ROOT = resolve(__dirname, '../../..');
const REFERENCE = CONFIGURATION_REFERENCE;

/** Every variable name src/config/ passes to a reader as `(env, 'NAME'` or lists as a quoted name. */
function variablesRead(): Set<string> {
  const names = new Set<string>();
  const dir = join(ROOT, 'src', 'config');
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(join(dir, file), 'utf8');
    for (const match of source.matchAll(/\(env, '([A-Z][A-Z0-9_]+)'/g)) names.add(match[1]);
    // Names given in lists (settings that belong to one mode, the SDK's own variables re-read here).
    for (const match of source.matchAll(/'((?:[A-Z][A-Z0-9]*_)+[A-Z0-9]+)'/g)) names.add(match[1]);
  }
  return names;
}

/** The variables of the reference's own tables: the first cell of each row, between backticks. */
function section(heading: string): string {
  const start = REFERENCE.indexOf(`## ${heading}`);
  if (start < 0) throw new Error(`docs/configuration.md has no section "## ${heading}"`);
  const end = REFERENCE.indexOf('\n## ', start + 3);
  return REFERENCE.slice(start, end < 0 ? undefined : end);
}

describe('the configuration reference (docs/configuration.md)', () => {
  const read = variablesRead();
  const outside = namesInFirstColumn(section('Read by other software'));
  const documented = new Set([...namesInFirstColumn(REFERENCE)].filter((name) => !outside.has(name)));

  it('finds the variables the configuration reads, so the checks below cannot pass on nothing', () => {
    expect(read.size).toBeGreaterThan(80);
    expect(read).toContain('REDIS_URL');
    expect(read).toContain('STATUS_NOTICES_URL');
  });

  it('has a row for every variable the configuration reads', () => {
    const missing = [...read].filter((name) => !documented.has(name) && !outside.has(name)).sort();
    expect(missing).toEqual([]);
  });

  it('names no variable that nothing reads', () => {
    const unread = [...documented].filter((name) => !read.has(name)).sort();
    expect(unread).toEqual([]);
  });
});
