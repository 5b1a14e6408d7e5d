import { join, resolve } from 'node:path';
import { runLoad, warmUp } from './lib/load';
import { stopAll } from './lib/processes';
import { demoIds, devicesBody } from './lib/queries';
import { table } from './lib/report';
import { fmt, median } from './lib/stats';
import { startDeployedService, startLocalHost, type ServiceProcess } from './lib/topology';

/**
 * `npm run bench -- --compare=<checkout>`: this build of the service against another checkout's build
 * (its `dist/`, as `npm run bench` or `npx tsc -p bench/tsconfig.json` leaves it), on all-cached 10-
 * and 100-device queries, alternating A/B: requests/s and server CPU per request. How the performance
 * pass in BENCHMARKS.md was measured.
 */
export async function compare(otherCheckout: string, rounds: number, seconds: number, log: (message: string) => void): Promise<string> {
  const otherScript = join(resolve(otherCheckout), 'dist', 'bench', 'servers', 'presence-service.js');
  const local = await startLocalHost({ demoDevices: 50 });
  let other: (ServiceProcess & { headers: Record<string, string> }) | undefined;
  let ours: (ServiceProcess & { headers: Record<string, string> }) | undefined;
  const rows: Array<Array<string | number>> = [];
  try {
    // Both as deployed (API key, limits, metrics; the layer-overhead scenario's settings).
    other = await startDeployedService(local, { name: `service from ${otherCheckout}`, script: otherScript });
    ours = await startDeployedService(local, { name: 'service from this checkout' });
    for (const devices of [10, 100]) {
      const body = devicesBody(demoIds(devices));
      await warmUp(other.info.url, body, 3, other.headers);
      await warmUp(ours.info.url, body, 3, ours.headers);
      const figures = { other: { rps: [] as number[], cpu: [] as number[] }, ours: { rps: [] as number[], cpu: [] as number[] } };
      for (let round = 0; round < rounds; round++) {
        for (const which of round % 2 === 0 ? (['other', 'ours'] as const) : (['ours', 'other'] as const)) {
          const server = which === 'ours' ? ours : other;
          const before = await server.stats();
          const run = await runLoad({ url: server.info.url, connections: 32, durationSeconds: seconds, body, headers: server.headers });
          const after = await server.stats();
          figures[which].rps.push(run.requestsPerSecond);
          figures[which].cpu.push((after.cpuMicros - before.cpuMicros) / run.completed);
          log(`compare: ${devices} devices, round ${round + 1}, ${which}: ${fmt(run.requestsPerSecond)} req/s, ${fmt(figures[which].cpu.at(-1)!)} µs CPU/request`);
        }
      }
      const [otherRps, oursRps] = [median(figures.other.rps), median(figures.ours.rps)];
      const [otherCpu, oursCpu] = [median(figures.other.cpu), median(figures.ours.cpu)];
      rows.push([
        `${devices} devices`,
        `${fmt(otherRps)} → ${fmt(oursRps)} (${fmt((100 * (oursRps - otherRps)) / otherRps, 0)} %)`,
        `${fmt(otherCpu)} → ${fmt(oursCpu)} (${fmt((100 * (oursCpu - otherCpu)) / otherCpu, 0)} %)`,
      ]);
    }
  } finally {
    await stopAll([other, ours, local]);
  }
  return table([`all-cached query (${rounds} rounds × ${seconds} s, medians)`, 'requests/s, other → this', 'server CPU µs per request, other → this'], rows);
}
