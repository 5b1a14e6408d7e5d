/**
 * `npm run bench`: every scenario on loopback, then BENCHMARKS.md rewritten with the figures, the
 * baseline of each, the machine and versions, and how to reproduce. Runs compiled JavaScript
 * (dist/bench/run.js, built by the npm script) so the figures are those of `npm start`'s code.
 *
 *   npm run bench                       all scenarios with the 10-minute soak (about 14 minutes), rewrites BENCHMARKS.md
 *   npm run bench -- --short-soak       the same with a 60 s soak (about 4 minutes)
 *   npm run bench -- --only=overhead,latency   some scenarios; prints the report, leaves BENCHMARKS.md alone
 *   npm run bench -- --only=faults      IDs lost under 20 % SystemOverFlow + 5 % InternalError, against 3 attempts
 *   npm run bench -- --only=fleet       status notices: a million devices in Redis, notices/s, reads, calls, latency
 *   npm run bench -- --only=flood       one key floods (HTTP, WebSocket), another key's p50 against idle
 *   npm run bench -- --only=regions     two accounts: B's p50 and errors with A's endpoint dead; per-account budgets under two replicas
 *   npm run bench -- --profile[=bare]   CPU profile of the all-cached 100-device query (ours or the baseline)
 *   npm run bench -- --compare=DIR      this build against another checkout's build, A/B (the performance pass)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { machineInfo, type MachineInfo } from './lib/machine';
import type { BenchContext, Goal, ScenarioReport } from './lib/report';
import { table, verdict } from './lib/report';
import { fmt } from './lib/stats';
import { compare } from './compare';
import { fleet } from './scenarios/fleet';
import { flood } from './scenarios/flood';
import { profile } from './profile';
import { layerOverhead } from './scenarios/layer-overhead';
import { packing } from './scenarios/packing';
import { quotaSaturation } from './scenarios/quota-saturation';
import { regions } from './scenarios/regions';
import { soak } from './scenarios/soak';
import { uncachedLatency } from './scenarios/uncached-latency';
import { upstreamEfficiency } from './scenarios/upstream-efficiency';
import { upstreamFaults } from './scenarios/upstream-faults';

const USAGE = `npm run bench [-- options]
  (none)                every scenario (overhead, shapes, latency, saturation, packing, faults, soak, fleet, flood, regions), 10-minute soak; rewrites BENCHMARKS.md
  --short-soak          a 60 s soak instead (BENCH_SOAK_MS sets any length)
  --only=ID[,ID]        some scenarios; prints the report, leaves BENCHMARKS.md alone
  --profile[=bare]      CPU profile of the all-cached 100-device query against the service (or the baseline);
                        BENCH_PROFILE_DEVICES and BENCH_PROFILE_SECONDS change the query and the length
  --compare=CHECKOUT    this build against another checkout's build (its dist/), all-cached queries, A/B`;

/** dist/bench/run.js → the repository root. */
const REPO = join(__dirname, '..', '..');

const SCENARIOS: Array<{ id: string; run: (ctx: BenchContext) => Promise<ScenarioReport> }> = [
  { id: 'overhead', run: layerOverhead },
  { id: 'shapes', run: upstreamEfficiency },
  { id: 'latency', run: uncachedLatency },
  { id: 'saturation', run: quotaSaturation },
  { id: 'packing', run: packing },
  { id: 'faults', run: upstreamFaults },
  { id: 'soak', run: soak },
  { id: 'fleet', run: fleet },
  { id: 'flood', run: flood },
  { id: 'regions', run: regions },
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => args.find((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  const value = (name: string) => flag(name)?.split('=')[1];
  if (flag('help')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const started = Date.now();
  const shortSoak = Boolean(flag('short-soak'));
  const ctx = contextFromEnv(shortSoak);

  if (flag('profile')) {
    const target = value('profile') === 'bare' ? 'bare' : 'ours';
    const dir = join(REPO, 'test-artifacts', 'cpu-profiles');
    const options = { dir, seconds: Number(process.env.BENCH_PROFILE_SECONDS ?? 10), devices: Number(process.env.BENCH_PROFILE_DEVICES ?? 100) };
    process.stdout.write(`${await profile(target, options, ctx.log)}\n`);
    return;
  }

  const other = value('compare');
  if (other) {
    process.stdout.write(`${await compare(other, ctx.rounds + 1, ctx.roundSeconds, ctx.log)}\n`);
    return;
  }

  const only = value('only')?.split(',');
  const unknown = only?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  const selected = SCENARIOS.filter((s) => !only || only.includes(s.id));

  const machine = machineInfo(REPO);
  const reports: Array<{ id: string; report?: ScenarioReport; error?: Error }> = [];
  for (const scenario of selected) {
    ctx.log(`— ${scenario.id}`);
    try {
      reports.push({ id: scenario.id, report: await scenario.run(ctx) });
    } catch (error) {
      ctx.log(`${scenario.id} failed: ${(error as Error).stack ?? String(error)}`);
      reports.push({ id: scenario.id, error: error as Error });
    }
  }
  const markdown = render(machine, ctx, reports, Date.now() - started, shortSoak);
  if (only) {
    process.stdout.write(`\n${markdown}\n`);
    ctx.log('--only: BENCHMARKS.md left as it was');
  } else {
    writeFileSync(join(REPO, 'BENCHMARKS.md'), markdown);
    ctx.log(`BENCHMARKS.md written (${fmt((Date.now() - started) / 1000)} s)`);
  }
  if (reports.some((r) => r.error)) process.exitCode = 1;
}

function contextFromEnv(shortSoak: boolean): BenchContext {
  const number = (name: string, fallback: number) => {
    const raw = process.env[name];
    if (raw === undefined || raw === '') return fallback;
    const parsed = Number(raw);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} must be a positive number; got ${JSON.stringify(raw)}`);
    return parsed;
  };
  return {
    roundSeconds: number('BENCH_ROUND_SECONDS', 5),
    // Five, not three: on a shared 2-core machine one slow spell can fall in any round, and a median of
    // five alternating rounds per server shrugs off two of them.
    rounds: number('BENCH_ROUNDS', 5),
    saturationSeconds: number('BENCH_SATURATION_SECONDS', 15),
    packingSeconds: number('BENCH_PACKING_SECONDS', 6),
    soakMs: number('BENCH_SOAK_MS', shortSoak ? 60_000 : 600_000),
    soakRatePerSecond: number('BENCH_SOAK_RATE', 1000),
    rttMs: number('BENCH_RTT_MS', 20),
    redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    log: (message) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`),
  };
}

function render(
  machine: MachineInfo,
  ctx: BenchContext,
  reports: Array<{ id: string; report?: ScenarioReport; error?: Error }>,
  elapsedMs: number,
  shortSoak: boolean,
): string {
  const goals: Goal[] = reports.flatMap(({ id, report, error }) =>
    report ? report.goals : [{ goal: `scenario \`${id}\``, measured: `failed: ${error?.message.split('\n')[0]}`, met: null }],
  );
  const end = loadavg();
  // Judged before the run: during it, the bench itself keeps both cores busy.
  const busy = machine.loadAverage[0] > 0.5;
  const sections = reports.map(({ id, report, error }) =>
    report ? `## ${report.title}\n\n${report.markdown}` : `## Scenario \`${id}\` failed\n\n\`\`\`\n${error?.stack ?? error}\n\`\`\``,
  );
  return [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC in ${fmt(elapsedMs / 1000)} s; ` +
      'do not edit by hand: the next run rewrites it (the performance-pass section comes from `bench/perf-pass.md`).',
    '',
    busy
      ? `> **The machine was not quiet**: load average ${machine.loadAverage.map((l) => fmt(l, 2)).join(' / ')} when the run ` +
        `started and ${end.map((l) => fmt(l, 2)).join(' / ')} when it ended (1 / 5 / 15 min). Throughput and latency ` +
        'figures are then lower and noisier than on an idle machine; re-run on a quiet one before quoting them.'
      : `Load average ${machine.loadAverage.map((l) => fmt(l, 2)).join(' / ')} at the start, ${end.map((l) => fmt(l, 2)).join(' / ')} at the end (1 / 5 / 15 min).`,
    '',
    '## Goals',
    '',
    table(['goal', 'measured', 'verdict'], goals.map((g) => [g.goal, g.measured, verdict(g.met)])),
    '',
    '## Machine and versions',
    '',
    table(
      ['', ''],
      [
        ['CPU', `${machine.cpuModel}, ${machine.cores} cores`],
        ['RAM', `${fmt(machine.ramGiB, 1)} GiB`],
        ['OS', machine.os],
        ['Node', machine.node],
        ['commit', machine.commit],
        ...machine.packages.map(([name, version]): [string, string] => [`\`${name}\``, version]),
      ],
    ),
    '',
    '## Setup and how to reproduce',
    '',
    '```sh',
    'npm run bench                 # every scenario, 10-minute soak, about 14 minutes; rewrites BENCHMARKS.md',
    'npm run bench -- --short-soak # the same with a 60 s soak, about 4 minutes (BENCH_SOAK_MS sets any length)',
    'npm run bench -- --only=overhead,latency   # some scenarios, report on stdout only',
    'npm run bench -- --only=fleet # status notices at fleet scale alone (needs RabbitMQ and rabbitmqctl), about 6 minutes',
    'npm run bench -- --only=flood # one API key floods, another key\'s p50 idle vs under flood (BENCH_FLOOD_OTHER=<checkout>: A/B against that build)',
    'npm run bench -- --only=regions # two accounts: B\'s p50 and errors with A\'s endpoint dead; each account\'s budget under two replicas',
    'npm run bench -- --profile    # CPU profile of the all-cached 100-device query (--profile=bare: the baseline)',
    '```',
    '',
    'The npm script compiles (`tsc -p bench/tsconfig.json`) and runs `dist/bench/run.js`: the same compiled JavaScript ' +
      '`npm start` runs, not ts-node. Everything is on loopback. Each server under test runs in a process of its own ' +
      '(`child_process.fork` of `dist/bench/servers/presence-service.js` or of a baseline in `dist/bench/baseline/`: Mercurius with and without jit, bare Apollo, the raw HTTP floor), configured ' +
      'only through its environment like a deployment (`NODE_ENV=production`, `LOG_LEVEL=warn`, `PRESENCE_SOURCE=alibaba` ' +
      'pointed at the local instance). The all-cached comparisons (layer overhead, `--profile`, `--compare`) run it as deployed: ' +
      '`AUTH_MODE=apikey` with a key scoped to the local instance and the demo group, every limit and the metrics on, and the ' +
      'benchmark\'s caller given an operation share that fits its load (`CALLER_OPERATIONS_PER_SECOND`, the setting a deployment ' +
      'would use; `CALLER_LOOKUPS_PER_SECOND` at its default 250, which cached answers do not spend). The other scenarios load it as ' +
      'one anonymous caller (`ALLOW_ANONYMOUS=true`, `CALLER_LOOKUPS_PER_SECOND=0`, `CALLER_OPERATIONS_PER_SECOND=0`), as they ' +
      'measure the upstream side. The local instance (aedes broker and OpenAPI emulator, `dist/bench/servers/local-instance-host.js`) ' +
      'runs in another process, and its emulator log is what counts upstream calls. The load generator, autocannon\'s ' +
      'programmatic API, runs in the orchestrator process. ' +
      `With ${machine.cores} cores, the server under test and the load generator each get about one; the local instance ` +
      'is idle except in the fresh-lookup scenarios, where the load is about 100 requests/s.',
    '',
    `Knobs (environment): \`BENCH_ROUNDS\` (${ctx.rounds}), \`BENCH_ROUND_SECONDS\` (${ctx.roundSeconds}), ` +
      `\`BENCH_SATURATION_SECONDS\` (${ctx.saturationSeconds}), \`BENCH_PACKING_SECONDS\` (${ctx.packingSeconds}), ` +
      `\`BENCH_SOAK_MS\` (${ctx.soakMs}${shortSoak ? ', from --short-soak' : ''}), \`BENCH_SOAK_RATE\` (${ctx.soakRatePerSecond}), ` +
      `\`BENCH_RTT_MS\` (${ctx.rttMs}), \`BENCH_REDIS_URL\` (\`${ctx.redisUrl}\`; the two-replica run is skipped, and says so, ` +
      'without a Redis).',
    '',
    ...sections.flatMap((section) => [section, '']),
    perfPass(),
  ].join('\n');
}

function perfPass(): string {
  try {
    return readFileSync(join(REPO, 'bench', 'perf-pass.md'), 'utf8').trim() + '\n';
  } catch {
    return '';
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
