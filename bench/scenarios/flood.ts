import { createHash, randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FloodResult } from '../servers/flooder';
import { keepAliveJsonClient } from '../lib/keep-alive-client';
import { startServer, stopAll, type ServerProcess } from '../lib/processes';
import { demoIds, devicesBody } from '../lib/queries';
import type { BenchContext, Goal, ScenarioReport } from '../lib/report';
import { table } from '../lib/report';
import { fmt, median, percentile, sleep } from '../lib/stats';
import { startLocalHost, startService, type ServiceProcess } from '../lib/topology';

/** The victim: a dashboard asking about 10 devices 20 times a second, well inside its shares. */
const VICTIM_RATE = 20;
const FLOOD_CONNECTIONS = 8;
/** The deployed defaults (docs/configuration.md), stated so a change of default shows here. */
const SHARES = { CALLER_OPERATIONS_PER_SECOND: '50', CALLER_LOOKUPS_PER_SECOND: '250' };
const SMALL = JSON.stringify({ query: '{ __typename }' });
/** Legal and near MAX_QUERY_BYTES (8 KiB): a comment pads a 1-device query to 8,000 bytes. */
const LARGE = JSON.stringify({ query: `#${'x'.repeat(7900)}\n{ device(clientId: "GID_demo@@@device-1") { online } }` });

type Shape = 'http-small' | 'http-large' | 'ws-subscribe' | 'sse-subscribe';
const SHAPES: readonly Shape[] = ['http-small', 'http-large', 'ws-subscribe', 'sse-subscribe'];

interface Round {
  p50: number;
  p99: number;
  serverCpuMs: number;
  /** The server's event-loop delay p99 over the round: what any caller's callback waited, server side. */
  loopDelayP99: number;
  flood?: FloodResult;
}

interface Target {
  label: string;
  service: ServiceProcess;
}

/**
 * A flood from one API key against another key's latency, the hardening issue's goal: the service as
 * deployed (NODE_ENV=production, AUTH_MODE=apikey with two keys, the default shares), a victim at a
 * steady VICTIM_RATE, in alternating rounds alone (idle) and beside a flooder whose
 * FLOOD_CONNECTIONS each send the next request the moment the last is answered. Reports the
 * victim's p50 / p99 each way, their ratio, what the flooder got (admitted, refused), and the server's
 * CPU per flood request. BENCH_FLOOD_OTHER=<checkout>[,<checkout>] runs those checkouts' builds beside this one,
 * round by round (A/B in the same run); BENCH_FLOOD_SHAPES picks shapes; BENCH_FLOOD_PROFILE=<dir>
 * writes the server's CPU profile (--cpu-prof) there.
 */
export async function flood(ctx: BenchContext): Promise<ScenarioReport> {
  const victimKey = apiKey('victim');
  const flooderKey = apiKey('flooder');
  const shapes = (process.env.BENCH_FLOOD_SHAPES?.split(',') as Shape[] | undefined) ?? SHAPES;
  const local = await startLocalHost({ demoDevices: 10 });
  const env = {
    ...SHARES,
    ALLOW_ANONYMOUS: 'false',
    AUTH_MODE: 'apikey',
    API_KEYS: JSON.stringify([victimKey.entry, flooderKey.entry]),
    PRESENCE_CACHE_TTL_MS: '3600000',
  };
  const profileDir = process.env.BENCH_FLOOD_PROFILE;
  const execArgv = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : [];
  const targets: Target[] = [];
  let flooder: ServerProcess | undefined;
  try {
    for (const other of process.env.BENCH_FLOOD_OTHER?.split(',').filter(Boolean) ?? []) {
      const script = join(resolve(other), 'dist', 'bench', 'servers', 'presence-service.js');
      targets.push({ label: `other (${other})`, service: await startService(local, env, { name: `build of ${other}`, script, execArgv }) });
    }
    targets.push({ label: 'this build', service: await startService(local, env, { name: 'this build', execArgv }) });
    flooder = await startServer('servers/flooder.js', { name: 'flooder', env: { PATH: process.env.PATH ?? '' } });
    const victimBody = devicesBody(demoIds(10));
    const results = new Map<string, { idle: Round[]; flood: Round[] }>();
    for (const shape of shapes) {
      for (let round = 0; round < ctx.rounds; round++) {
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const target of order) {
          const key = `${shape}\t${target.label}`;
          const figures = results.get(key) ?? { idle: [], flood: [] };
          results.set(key, figures);
          const phases = round % 2 === 0 ? (['idle', 'flood'] as const) : (['flood', 'idle'] as const);
          for (const phase of phases) {
            const run = await measureRound(ctx, target.service, flooder, victimKey.key, flooderKey.key, victimBody, phase === 'flood' ? shape : undefined);
            figures[phase].push(run);
            ctx.log(`flood: ${shape}, ${target.label}, round ${round + 1}, ${phase}: victim p50 ${fmt(run.p50, 1)} ms${run.flood ? `, flooder refused ${run.flood.refused}, admitted ${run.flood.admitted}` : ''}`);
          }
        }
      }
    }
    return report(ctx, shapes, targets, results);
  } finally {
    await stopAll([flooder, ...targets.map((t) => t.service), local]);
  }
}

async function measureRound(
  ctx: BenchContext,
  service: ServiceProcess,
  flooder: ServerProcess,
  victimKey: string,
  flooderKey: string,
  victimBody: string,
  shape: Shape | undefined,
): Promise<Round> {
  const before = await service.stats({ resetLoopDelay: true });
  const floodRun = shape ? startFlood(flooder, service.info.url, flooderKey, shape, ctx.roundSeconds + 1) : undefined;
  // The flood's first second (connections, JIT) is left out of the victim's window.
  if (floodRun) await sleep(700);
  const latencies = await victim(service.info.url, victimKey, victimBody, ctx.roundSeconds);
  const flood = await floodRun;
  const after = await service.stats();
  const serverCpuMs = (after.cpuMicros - before.cpuMicros) / 1000;
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), serverCpuMs, loopDelayP99: after.loopDelayMs.p99, flood };
}

function startFlood(flooder: ServerProcess, url: string, key: string, shape: Shape, seconds: number): Promise<FloodResult> {
  const authorization = `Bearer ${key}`;
  if (shape === 'ws-subscribe') return flooder.command<FloodResult>('ws', { url, authorization, query: '{ __typename }', connections: FLOOD_CONNECTIONS, seconds });
  // graphql-sse's distinct connections mode: each POST one operation's event stream, ended after its result.
  if (shape === 'sse-subscribe') {
    return flooder.command<FloodResult>('http', { url: `${url}/stream`, headers: { authorization, accept: 'text/event-stream' }, body: SMALL, connections: FLOOD_CONNECTIONS, seconds });
  }
  const body = shape === 'http-large' ? LARGE : SMALL;
  return flooder.command<FloodResult>('http', { url, headers: { authorization }, body, connections: FLOOD_CONNECTIONS, seconds });
}

/** Open loop at VICTIM_RATE: each latency from when the request was due, so a stall counts whole. */
async function victim(url: string, key: string, body: string, seconds: number): Promise<number[]> {
  const client = keepAliveJsonClient(url, { authorization: `Bearer ${key}` });
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  const start = performance.now();
  const count = Math.round(seconds * VICTIM_RATE);
  try {
    for (let i = 0; i < count; i++) {
      const due = start + (i * 1000) / VICTIM_RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      pending.push(
        client.post(body).then((answer) => {
          if ((answer as { errors?: unknown }).errors) throw new Error(`the victim was refused: ${JSON.stringify(answer).slice(0, 300)}`);
          latencies.push(performance.now() - due);
        }),
      );
    }
    await Promise.all(pending);
  } finally {
    client.close();
  }
  return latencies;
}

function report(ctx: BenchContext, shapes: readonly Shape[], targets: Target[], results: Map<string, { idle: Round[]; flood: Round[] }>): ScenarioReport {
  const goals: Goal[] = [];
  const rows: Array<Array<string | number>> = [];
  for (const shape of shapes) {
    for (const target of targets) {
      const figures = results.get(`${shape}\t${target.label}`)!;
      const idleP50 = median(figures.idle.map((r) => r.p50));
      const floodP50 = median(figures.flood.map((r) => r.p50));
      const ratio = floodP50 / idleP50;
      const floods = figures.flood.map((r) => r.flood!);
      const refused = median(floods.map((f) => f.refused));
      const admitted = median(floods.map((f) => f.admitted));
      // The flood's CPU: a flood round's server CPU less an idle round's (the victim's own), per flood request.
      const idleCpu = median(figures.idle.map((r) => r.serverCpuMs));
      const cpuPerRequest = median(figures.flood.map((r) => ((r.serverCpuMs - idleCpu) * 1000) / Math.max(1, r.flood!.sent)));
      const cpuShare = median(figures.flood.map((r) => r.serverCpuMs / ((ctx.roundSeconds + 0.7) * 1000)));
      rows.push([
        shape,
        target.label,
        `${fmt(idleP50, 2)} / ${fmt(median(figures.idle.map((r) => r.p99)), 1)}`,
        `${fmt(floodP50, 2)} / ${fmt(median(figures.flood.map((r) => r.p99)), 1)}`,
        `**${fmt(ratio, 2)}×**`,
        `${fmt(median(floods.map((f) => f.sent)) / (ctx.roundSeconds + 1))}`,
        `${fmt(refused)} / ${fmt(admitted)} / ${fmt(median(floods.map((f) => f.other)))}`,
        fmt(cpuPerRequest, 1),
        `${fmt(100 * cpuShare)} %`,
        `${fmt(median(figures.idle.map((r) => r.loopDelayP99)), 1)} → ${fmt(median(figures.flood.map((r) => r.loopDelayP99)), 1)}`,
      ]);
      if (target.label === 'this build') {
        goals.push({
          goal: `flood from one key (${shape}, ${FLOOD_CONNECTIONS} connections): another caller's p50 within 2× of idle`,
          measured: `${fmt(idleP50, 2)} → ${fmt(floodP50, 2)} ms (${fmt(ratio, 2)}×), ${fmt(refused)} refused per round`,
          met: ratio <= 2,
        });
      }
    }
  }
  return {
    title: 'Flood from one caller: another caller\'s latency',
    goals,
    markdown: [
      'The service as deployed: `NODE_ENV=production`, `AUTH_MODE=apikey` with two keys, the default shares ' +
        `(\`CALLER_OPERATIONS_PER_SECOND=${SHARES.CALLER_OPERATIONS_PER_SECOND}\`, \`CALLER_LOOKUPS_PER_SECOND=${SHARES.CALLER_LOOKUPS_PER_SECOND}\`) and every other limit on. ` +
        `The victim key asks for 10 cached devices ${VICTIM_RATE} times a second (open loop, one kept-alive connection; each latency counted from ` +
        `when its request was due). The flooder key, in a process of its own, runs ${FLOOD_CONNECTIONS} connections that each send the next ` +
        'request as soon as the last is answered: `http-small` POSTs `{ __typename }`, `http-large` an 8,000-byte legal document, ' +
        '`ws-subscribe` sends graphql-ws subscribes of `{ __typename }` over 8 sockets, `sse-subscribe` POSTs `{ __typename }` to ' +
        '`/graphql/stream` (graphql-sse, one event stream per operation). Nearly all of it is over the operation share. ' +
        `${ctx.rounds} rounds of ${ctx.roundSeconds} s each way, idle and flood alternating (medians). Server CPU per flood request: a flood ` +
        'round\'s CPU less an idle round\'s, over the flood requests sent (the flooder\'s admitted operations included). ' +
        'The event-loop delay is the server\'s own (a 10 ms timer\'s lateness): how long any callback waited there, whatever the ' +
        'operating system did to the processes around it. On a 2-core machine shared with other work, the victim\'s figures ' +
        'include scheduling noise: compare builds within one run, round by round.',
      '',
      table(
        ['flood', 'build', 'victim idle p50 / p99 ms', 'under flood p50 / p99 ms', 'p50 ratio', 'flood requests/s', 'flooder refused / admitted / other', 'server CPU µs per flood request', 'server CPU busy under flood', 'server event-loop delay p99 ms, idle → flood'],
        rows,
      ),
    ].join('\n'),
  };
}

function apiKey(name: string): { key: string; entry: { name: string; sha256: string; instances: string[]; groups: string[] } } {
  const key = `pg_${randomBytes(24).toString('base64url')}`;
  return { key, entry: { name, sha256: createHash('sha256').update(key).digest('hex'), instances: ['*'], groups: ['*'] } };
}
