import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad, warmUp } from './lib/load';
import { stopAll, type ServerProcess } from './lib/processes';
import { demoIds, devicesBody } from './lib/queries';
import { fmt } from './lib/stats';
import { startBareBaseline, startDeployedService, startLocalHost } from './lib/topology';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/**
 * `npm run bench -- --profile[=ours|bare]`: the all-cached `devices`-device query for `seconds` against one
 * server started with --cpu-prof, then the hottest functions and packages by self time. The
 * .cpuprofile stays in `dir` (test-artifacts/, git-ignored) for Chrome DevTools or speedscope.
 */
export async function profile(
  target: 'ours' | 'bare',
  options: { dir: string; seconds: number; devices: number },
  log: (message: string) => void,
): Promise<string> {
  const { dir, seconds, devices } = options;
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  const execArgv = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  const local = await startLocalHost({ demoDevices: 50 });
  let server: ServerProcess<{ url: string }> | undefined;
  try {
    // The service as deployed (API key, limits, metrics), as the layer-overhead scenario measures it.
    const deployed = target === 'ours' ? await startDeployedService(local, { execArgv }) : undefined;
    server = deployed ?? (await startBareBaseline(local.info.instanceId, local.info.demoDevices, { execArgv }));
    const headers = deployed?.headers;
    const body = devicesBody(demoIds(devices));
    await warmUp(server.info.url, body, 3, headers);
    log(`profiling ${target}: ${seconds} s of all-cached ${devices}-device queries`);
    const result = await runLoad({ url: server.info.url, connections: 32, durationSeconds: seconds, body, headers });
    log(`${fmt(result.requestsPerSecond)} requests/s while profiling (the profiler itself slows the server)`);
  } finally {
    await stopAll([server, local]);
  }
  const written = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile') && !before.has(name));
  if (written.length === 0) throw new Error(`no .cpuprofile was written to ${dir}`);
  const newest = written.map((name) => join(dir, name)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  return `${newest}\n\n${summarise(newest)}`;
}

/** Self time by function and by package, in % of the samples where the process was not idle. */
export function summarise(file: string, top = 30): string {
  const { nodes } = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busy = 0;
  for (const node of nodes) {
    const hits = node.hitCount ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (hits === 0 || functionName === '(idle)') continue;
    busy += hits;
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hits);
  }
  const list = (map: Map<string, number>, count: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, hits]) => `${fmt((100 * hits) / busy, 1).padStart(5)} %  ${name}`)
      .join('\n');
  return `Self time by package (% of busy samples)\n${list(byPackage, 20)}\n\nHottest functions (self time)\n${list(byFunction, top)}`;
}

function shorten(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url.replace(/^file:\/\//, '');
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8)';
  if (url.startsWith('node:')) return 'node: core';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + '/dist/'.length).split('/').slice(0, 2).join('/');
  return url;
}
