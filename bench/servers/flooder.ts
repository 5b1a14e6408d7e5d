/**
 * The flooding caller of the flood scenario, in a process of its own: the victim's latency is
 * measured in the orchestrator, whose event loop must not also drive the flood. Commands:
 * - `http`: autocannon, N kept-alive connections each sending the next POST as soon as the last is
 *   answered (closed loop, no think time), with the flooder's credentials;
 * - `ws`: N graphql-transport-ws sockets, each sending the next subscribe as soon as the last ended.
 * Each answers how many operations were admitted and how many refused (429 / RATE_LIMITED).
 */
import WebSocket from 'ws';
import { failStart, serveCommands } from '../lib/child';
import { runLoad } from '../lib/load';

export interface FloodResult {
  sent: number;
  admitted: number;
  refused: number;
  /** Anything else: socket errors, timeouts, other statuses or codes. */
  other: number;
}

interface HttpFlood {
  url: string;
  headers: Record<string, string>;
  body: string;
  connections: number;
  seconds: number;
}

interface WsFlood {
  url: string;
  authorization: string;
  query: string;
  connections: number;
  seconds: number;
}

async function httpFlood(args: HttpFlood): Promise<FloodResult> {
  const result = await runLoad({ url: args.url, connections: args.connections, durationSeconds: args.seconds, body: args.body, headers: args.headers, countErrorCodes: true });
  const refused = result.errorCodes.RATE_LIMITED ?? 0;
  const sent = result.completed + result.non2xx;
  return { sent, admitted: result.completed, refused, other: result.non2xx - refused + result.errors + result.timeouts };
}

async function wsFlood(args: WsFlood): Promise<FloodResult> {
  const totals: FloodResult = { sent: 0, admitted: 0, refused: 0, other: 0 };
  const until = Date.now() + args.seconds * 1000;
  await Promise.all(Array.from({ length: args.connections }, () => floodOneSocket(args, until, totals)));
  return totals;
}

/** One socket: init, then one subscribe in flight at a time until `until`. */
function floodOneSocket(args: WsFlood, until: number, totals: FloodResult): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(args.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    let next = 0;
    let current = '';
    const send = () => {
      if (Date.now() >= until) {
        socket.close(1000);
        return;
      }
      current = String(next++);
      totals.sent++;
      socket.send(JSON.stringify({ id: current, type: 'subscribe', payload: { query: args.query } }));
    };
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: args.authorization } })));
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as { type: string; id?: string; payload?: unknown };
      if (message.type === 'connection_ack') return send();
      if (message.id !== current) return;
      if (message.type === 'next') {
        const errors = (message.payload as { errors?: Array<{ extensions?: { code?: string } }> }).errors;
        if (errors?.some((e) => e.extensions?.code === 'RATE_LIMITED')) totals.refused++;
        else if (errors) totals.other++;
        else totals.admitted++;
      } else if (message.type === 'error') {
        const errors = message.payload as Array<{ extensions?: { code?: string } }>;
        if (errors.some((e) => e.extensions?.code === 'RATE_LIMITED')) totals.refused++;
        else totals.other++;
        send();
      } else if (message.type === 'complete') send();
    });
    socket.on('error', () => totals.other++);
    socket.on('close', () => resolve());
  });
}

serveCommands({}, { http: httpFlood, ws: wsFlood }, async () => undefined);
process.on('uncaughtException', failStart('flooder'));
