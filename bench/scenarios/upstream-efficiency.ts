import { stopAll } from '../lib/processes';
import { DEVICES_QUERY, FreshIds, queryBody } from '../lib/queries';
import type { BenchContext, Goal, ScenarioReport } from '../lib/report';
import { table } from '../lib/report';
import { fmt, sleep } from '../lib/stats';
import { startLocalHost, startService, takeBatchCalls } from '../lib/topology';

interface Shape {
  name: string;
  /** Distinct Client IDs the shape asks about. */
  distinct: number;
  /** The request bodies, sent concurrently. */
  bodies: string[];
}

const ONE = 'query One($id: ID!) { device(clientId: $id) { clientId online } }';
const ENTITIES =
  'query Entities($r: [_Any!]!) { _entities(representations: $r) { ... on Device { clientId online } } }';

/** Each shape gets Client IDs nobody asked for before, so every one of them is an upstream lookup. */
function shapes(fresh: FreshIds): Shape[] {
  const list: Shape[] = [];
  const add = (name: string, distinct: number, bodies: string[]) => list.push({ name, distinct, bodies });
  const devices = (ids: string[]) => queryBody(DEVICES_QUERY, { ids });

  add('`device`, one ID', 1, [queryBody(ONE, { id: fresh.take(1)[0] })]);
  add('`devices`, 10 IDs', 10, [devices(fresh.take(10))]);
  {
    const ids = fresh.take(20);
    add('`devices`, 25 IDs of which 20 distinct', 20, [devices([...ids, ...ids.slice(0, 5)])]);
  }
  add('`devices`, 100 IDs', 100, [devices(fresh.take(100))]);
  {
    const ids = fresh.take(13);
    const fields = ids.map((id, i) => `d${i}: device(clientId: "${id}") { ...F }`).join(' ');
    add('13 aliased `device` fields through a fragment', 13, [queryBody(`{ ${fields} } fragment F on Device { clientId online }`)]);
  }
  {
    const ids = fresh.take(70);
    const lists = [ids.slice(0, 30), ids.slice(20, 50), ids.slice(40, 70)];
    const fields = lists.map((l, i) => `l${i}: devices(clientIds: ${JSON.stringify(l)}) { clientId online }`).join(' ');
    add('3 aliased `devices` lists of 30, overlapping (70 distinct)', 70, [queryBody(`{ ${fields} }`)]);
  }
  {
    const ids = fresh.take(37);
    add('37 devices with both `online` and `presence { online source }`', 37, [
      queryBody('query P($ids: [ID!]!) { devices(clientIds: $ids) { online presence { online source } } }', { ids }),
    ]);
  }
  {
    const representations = fresh.take(45).map((clientId) => ({ __typename: 'Device', clientId }));
    add('federation `_entities`, 45 representations', 45, [queryBody(ENTITIES, { r: representations })]);
  }
  {
    const ids = fresh.take(50);
    const bodies = Array.from({ length: 10 }, (_, i) => devices(Array.from({ length: 10 }, (_, j) => ids[(5 * i + j) % 50])));
    add('10 concurrent requests of 10 IDs, half shared with the next (50 distinct)', 50, bodies);
  }
  add('20 concurrent requests of 1 ID', 20, fresh.take(20).map((id) => queryBody(ONE, { id })));
  add('100 concurrent requests of 1 ID', 100, fresh.take(100).map((id) => queryBody(ONE, { id })));
  return list;
}

/**
 * Upstream efficiency over query shapes: for each shape, the BatchQuerySessionByClientIds calls the
 * emulator received divided by the least possible, ⌈distinct IDs / 10⌉. Cache off
 * (PRESENCE_CACHE_TTL_MS=0) and Client IDs never asked before, so every ID is looked up.
 */
export async function upstreamEfficiency(ctx: BenchContext): Promise<ScenarioReport> {
  const local = await startLocalHost();
  const service = await startService(local, { PRESENCE_CACHE_TTL_MS: '0' }).catch(async (error: unknown) => {
    await local.stop();
    throw error;
  });
  try {
    const rows: Array<Array<string | number>> = [];
    let worstSingleRequest = 0;
    for (const shape of shapes(new FreshIds('shape'))) {
      await takeBatchCalls(local);
      // Idle longer than the partial-call spacing, so each shape starts as on an idle service.
      await sleep(100);
      const answers = await Promise.all(shape.bodies.map((body) => post(service.info.url, body)));
      const errors = answers.reduce((n, answer) => n + (answer.errors?.length ?? 0), 0);
      const calls = await takeBatchCalls(local);
      const least = Math.ceil(shape.distinct / 10);
      const ratio = calls.length / least;
      if (shape.bodies.length === 1) worstSingleRequest = Math.max(worstSingleRequest, ratio);
      const sizes = calls.map(([, ids]) => ids).sort((a, b) => b - a);
      rows.push([shape.name, shape.distinct, least, calls.length, `**${fmt(ratio, 2)}**`, sizes.join(', '), errors]);
      ctx.log(`upstream efficiency: ${shape.name}: ${calls.length} calls for ${shape.distinct} distinct IDs`);
    }
    const goals: Goal[] = [
      {
        goal: 'Every single-request query shape costs ⌈distinct IDs / 10⌉ upstream calls',
        measured: `worst ratio ${fmt(worstSingleRequest, 2)}`,
        met: worstSingleRequest === 1,
      },
    ];
    return {
      title: 'Upstream efficiency over query shapes',
      goals,
      markdown: [
        'Each shape is sent once (the concurrent ones all at once) with Client IDs never asked before and the cache off ' +
          '(`PRESENCE_CACHE_TTL_MS=0`); the emulator counts the `BatchQuerySessionByClientIds` calls. ' +
          '**Baseline**: the least possible number of calls, ⌈distinct IDs / 10⌉. Ratio 1.00 is perfect.',
        '',
        table(['shape', 'distinct IDs', '⌈distinct/10⌉', 'calls', 'ratio', 'IDs per call', 'errors'], rows),
        '',
        'Concurrent requests reach the service one after another, not in one instant: the first ID of an idle service ' +
          'goes out alone at once (no added latency), later ones wait for company while partial calls follow each ' +
          'other (the packing rule of `src/presence/presence-dispatcher.ts`). So cross-request shapes cost a few calls ' +
          'more than the least possible; the goal above is about single requests.',
      ].join('\n'),
    };
  } finally {
    await stopAll([service, local]);
  }
}

async function post(url: string, body: string): Promise<{ errors?: unknown[] }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return (await response.json()) as { errors?: unknown[] };
}
