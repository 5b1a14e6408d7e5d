import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Builds the self-hosted GraphiQL into dist/graphiql/ as `npm run build` does, so tests that serve
 * the page work from a clean clone (`npm ci && npm test`) without a build step of their own.
 */
export async function buildGraphiQL(): Promise<void> {
  const root = join(__dirname, '..', '..');
  await promisify(execFile)(process.execPath, [join(root, 'scripts', 'build-graphiql.mjs')], { cwd: root });
}
