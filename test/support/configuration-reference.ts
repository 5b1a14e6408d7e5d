import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** docs/configuration.md, the reference of every environment variable. */
export const CONFIGURATION_REFERENCE = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');

/** The variables of the reference's tables (or of `text`, a part of it): the first cell of each row, between backticks. */
export function namesInFirstColumn(text: string = CONFIGURATION_REFERENCE): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cell = line.split('|')[1];
    for (const match of cell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(match[1]);
  }
  return names;
}
