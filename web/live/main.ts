/**
 * The live presence page (/live): a client of the public API like any other, in plain TypeScript,
 * bundled by scripts/build-graphiql.mjs into dist/graphiql/live.js; nothing from any other host.
 *
 * - Devices: `presenceChanged` over WebSocket (graphql-ws) at /graphql, for the demo devices and
 *   those typed in the field; the table shows each one's status and when it last changed.
 * - Group: `groupPresence(groupId:)` polled every 2 s by POST /graphql, its `online` count drawn as an
 *   inline SVG line over the last minutes (needs the status notices; their absence is shown).
 *
 * An API key typed in the key field (kept in memory only) goes as `Authorization: Bearer <key>` on
 * queries and as a connection param on the WebSocket.
 */
import { createClient, type Client } from 'graphql-ws';
import { DEMO_DEVICES, numberedClientIds } from '../../src/local/device-simulator-defaults';
import './live.css';

const POLL_MS = 2_000;
const WINDOW_MS = 5 * 60_000;
const GROUP_ID = DEMO_DEVICES.groupId;
const SVG_NS = 'http://www.w3.org/2000/svg';

// The page is at <prefix>/live: the API at <prefix>/graphql, whatever prefix a proxy adds.
const apiUrl = new URL('graphql', window.location.href).href;
const socketUrl = apiUrl.replace(/^http/, 'ws');

interface Row {
  online: boolean;
  at: string;
  initial: boolean;
}
interface Sample {
  t: number;
  online: number;
  known: number;
}
interface ChangeEvent {
  presenceChanged: { online: boolean; at: string; initial: boolean; device: { id: string; clientId: string } };
}

const watched: string[] = numberedClientIds(DEMO_DEVICES.groupId, DEMO_DEVICES.prefix, DEMO_DEVICES.count);
const rows = new Map<string, Row>();
const samples: Sample[] = [];
let apiKey = '';
let client: Client | undefined;
let unsubscribe: (() => void) | undefined;

const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
};
const tableBody = element<HTMLTableSectionElement>('devices');
const connection = element<HTMLSpanElement>('connection');
const plot = element<HTMLDivElement>('plot');
const groupStatus = element<HTMLParagraphElement>('group-status');
const addForm = element<HTMLFormElement>('add-device');
const addInput = element<HTMLInputElement>('client-id');
const keyForm = element<HTMLFormElement>('api-key');
const keyInput = element<HTMLInputElement>('key');
element<HTMLSpanElement>('group-id').textContent = GROUP_ID;

function authHeaders(): Record<string, string> {
  return apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
}

/** (Re)subscribes to every watched device: the first events are their current statuses. */
function subscribe(): void {
  unsubscribe?.();
  client ??= createClient({
    url: socketUrl,
    connectionParams: () => authHeaders(),
    retryAttempts: Infinity,
    on: {
      connected: () => showConnection('live', 'ok'),
      closed: () => showConnection('reconnecting…', 'warn'),
    },
  });
  unsubscribe = client.subscribe<ChangeEvent>(
    {
      query: 'subscription LivePage($clientIds: [ID!]!) { presenceChanged(clientIds: $clientIds) { online at initial device { id clientId } } }',
      variables: { clientIds: watched },
    },
    {
      next: ({ data, errors }) => {
        if (errors?.length) return showConnection(`error: ${errors.map((e) => e.message).join('; ')}`, 'error');
        if (!data) return;
        const { device, online, at, initial } = data.presenceChanged;
        rows.set(device.clientId, { online, at, initial });
        renderTable();
      },
      error: (error) => showConnection(`error: ${describe(error)}`, 'error'),
      complete: () => undefined,
    },
  );
  renderTable();
}

function showConnection(text: string, state: 'ok' | 'warn' | 'error'): void {
  connection.textContent = text;
  connection.dataset.state = state;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) return error.map((e) => (e as { message?: string }).message ?? String(e)).join('; ');
  if (error && typeof error === 'object' && 'reason' in error) return `connection closed (${(error as CloseEvent).code} ${(error as CloseEvent).reason})`;
  return String(error);
}

function renderTable(): void {
  tableBody.replaceChildren(
    ...watched.map((clientId) => {
      const row = rows.get(clientId);
      const tr = document.createElement('tr');
      tr.dataset.clientId = clientId;
      tr.dataset.status = row ? (row.online ? 'online' : 'offline') : 'unknown';
      const status = row ? (row.online ? 'online' : 'offline') : '…';
      const since = row ? `${new Date(row.at).toLocaleTimeString()}${row.initial ? ' (at subscribe)' : ''}` : '';
      for (const [text, className] of [
        [clientId, 'device'],
        [status, 'status'],
        [since, 'at'],
      ]) {
        const td = document.createElement('td');
        td.className = className;
        td.textContent = text;
        if (row) td.title = row.at;
        tr.append(td);
      }
      return tr;
    }),
  );
}

/** One `groupPresence` poll: a sample for the plot, or what stopped it. */
async function poll(): Promise<void> {
  try {
    const response = await fetch(apiUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json', ...authHeaders() },
      body: JSON.stringify({
        query: 'query LiveGroup($groupId: String!) { groupPresence(groupId: $groupId) { online known complete } }',
        variables: { groupId: GROUP_ID },
      }),
    });
    const body = (await response.json()) as { data?: { groupPresence: { online: number; known: number; complete: boolean } } | null; errors?: { message: string; extensions?: { code?: string } }[] };
    const group = body.data?.groupPresence;
    if (!group) {
      const error = body.errors?.[0];
      groupStatus.textContent = error ? `groupPresence: ${error.message}${error.extensions?.code ? ` (${error.extensions.code})` : ''}` : `groupPresence: HTTP ${response.status}`;
      groupStatus.dataset.state = 'error';
      return;
    }
    samples.push({ t: Date.now(), online: group.online, known: group.known });
    groupStatus.textContent = `${group.online} of ${group.known} known devices online${group.complete ? '' : ' (unconfirmed: start-up or a gap in the notices)'}`;
    groupStatus.dataset.state = 'ok';
  } catch (error) {
    groupStatus.textContent = `groupPresence: ${describe(error)}`;
    groupStatus.dataset.state = 'error';
  } finally {
    while (samples.length > 0 && samples[0].t < Date.now() - WINDOW_MS) samples.shift();
    renderPlot();
  }
}

/** Online count over the last WINDOW_MS as an SVG line, with the known count dashed behind it. */
function renderPlot(): void {
  const width = 640;
  const height = 200;
  const pad = { left: 36, right: 12, top: 12, bottom: 24 };
  const now = Date.now();
  const maxY = Math.max(1, ...samples.map((s) => Math.max(s.online, s.known)));
  const x = (t: number) => pad.left + ((t - (now - WINDOW_MS)) / WINDOW_MS) * (width - pad.left - pad.right);
  const y = (v: number) => height - pad.bottom - (v / maxY) * (height - pad.top - pad.bottom);
  const svg = svgElement('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `Online devices of ${GROUP_ID}, last ${WINDOW_MS / 60_000} minutes` });
  svg.append(svgElement('line', { x1: pad.left, y1: y(0), x2: width - pad.right, y2: y(0), class: 'axis' }));
  svg.append(svgElement('line', { x1: pad.left, y1: pad.top, x2: pad.left, y2: y(0), class: 'axis' }));
  for (const value of [0, maxY]) {
    const label = svgElement('text', { x: pad.left - 6, y: y(value) + 4, class: 'tick', 'text-anchor': 'end' });
    label.textContent = String(value);
    svg.append(label);
  }
  for (const [minutesAgo, anchor] of [[WINDOW_MS / 60_000, 'start'], [0, 'end']] as const) {
    const label = svgElement('text', { x: x(now - minutesAgo * 60_000), y: height - 6, class: 'tick', 'text-anchor': anchor });
    label.textContent = minutesAgo === 0 ? 'now' : `−${minutesAgo} min`;
    svg.append(label);
  }
  const points = (pick: (s: Sample) => number) => samples.map((s) => `${x(s.t).toFixed(1)},${y(pick(s)).toFixed(1)}`).join(' ');
  if (samples.length > 0) {
    svg.append(svgElement('polyline', { points: points((s) => s.known), class: 'known' }));
    svg.append(svgElement('polyline', { points: points((s) => s.online), class: 'online', 'data-points': samples.length }));
    const last = samples[samples.length - 1];
    svg.append(svgElement('circle', { cx: x(last.t), cy: y(last.online), r: 3, class: 'online-dot' }));
  }
  plot.replaceChildren(svg);
}

function svgElement(name: string, attributes: Record<string, string | number>): SVGElement {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

addForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const ids = addInput.value.split(/[\s,]+/).filter((id) => id && !watched.includes(id));
  if (ids.length === 0) return;
  watched.push(...ids);
  addInput.value = '';
  subscribe();
});

keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  apiKey = keyInput.value.trim();
  // New credentials: a new connection (connectionParams are sent once, when it opens).
  unsubscribe?.();
  unsubscribe = undefined;
  void client?.dispose();
  client = undefined;
  subscribe();
  void poll();
});

subscribe();
void poll();
setInterval(() => void poll(), POLL_MS);
