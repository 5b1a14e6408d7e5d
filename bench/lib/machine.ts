import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';

/** Packages whose versions decide the figures, read from package-lock.json (what is installed). */
const PACKAGES = [
  '@apollo/server',
  '@apollo/subgraph',
  'graphql',
  'type-graphql',
  'dataloader',
  '@alicloud/openapi-client',
  'ioredis',
  'pino',
  'prom-client',
  'aedes',
  'autocannon',
  'typescript',
];

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  ramGiB: number;
  os: string;
  node: string;
  packages: Array<[string, string]>;
  commit: string;
  loadAverage: [number, number, number];
}

export function machineInfo(repoRoot: string): MachineInfo {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    ramGiB: totalmem() / 1024 ** 3,
    os: `${type()} ${release()}`,
    node: process.version,
    packages: PACKAGES.map((name) => [name, lock.packages[`node_modules/${name}`]?.version ?? 'not installed']),
    commit: gitDescribe(repoRoot),
    loadAverage: loadavg() as [number, number, number],
  };
}

function gitDescribe(repoRoot: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
