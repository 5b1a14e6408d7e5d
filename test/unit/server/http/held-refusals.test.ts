import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeldRefusals } from '../../../../src/server/http/held-refusals';
import type { HttpRefusal } from '../../../../src/server/http/http-refusal';

const OVER_SHARE: HttpRefusal = { status: 429, message: 'over its share', code: 'RATE_LIMITED', extensions: { retryAfterMs: 60 }, delayMs: 60 };

/** A server answering every request with OVER_SHARE through `held`; `closed` resolves with each response's close. */
async function refusingServer(held: HeldRefusals, refused: HttpRefusal = OVER_SHARE) {
  const closed: Array<Promise<void>> = [];
  const server: Server = createServer((_req, res: ServerResponse) => {
    closed.push(new Promise((resolve) => res.once('close', () => resolve())));
    held.answer(res, 'flooder', refused);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, closed };
}

function post(port: number): { answer: Promise<{ status: number; connection?: string; body: any; elapsedMs: number }>; abort(): void } {
  const started = performance.now();
  let abort = () => {};
  const answer = new Promise<{ status: number; connection?: string; body: any; elapsedMs: number }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/graphql', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode!, connection: res.headers.connection, body: JSON.parse(Buffer.concat(chunks).toString()), elapsedMs: performance.now() - started }),
      );
    });
    req.on('error', reject);
    abort = () => req.destroy();
    req.end('{"query":"{ __typename }"}');
  });
  return { answer, abort };
}

describe('HeldRefusals', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('answers a refusal with a delay once the delay has passed, in the same GraphQL error shape', async () => {
    const held = new HeldRefusals();
    const started = await refusingServer(held);
    server = started.server;
    const { status, body, elapsedMs } = await post(started.port).answer;
    expect(status).toBe(429);
    expect(body).toEqual({ errors: [{ message: 'over its share', extensions: { code: 'RATE_LIMITED', retryAfterMs: 60 } }] });
    // Timers never fire early by more than their millisecond rounding.
    expect(elapsedMs).toBeGreaterThanOrEqual(59);
    expect(held.size).toBe(0);
  });

  it('answers at once, closing the connection, past the refusals one caller may have held', async () => {
    const held = new HeldRefusals({ maxDelayMs: 60_000, maxHeldPerCaller: 1 });
    const started = await refusingServer(held, { ...OVER_SHARE, delayMs: 60_000 });
    server = started.server;
    const first = post(started.port);
    // The second is refused at once: the first still holds the caller's one place.
    const second = await post(started.port).answer;
    expect(second).toMatchObject({ status: 429, connection: 'close' });
    expect(held.size).toBe(1);
    // The client that gave up frees its place: nothing is answered, no timer is left.
    first.abort();
    await expect(first.answer).rejects.toThrow();
    await started.closed[0];
    expect(held.size).toBe(0);
  });

  it('answers a refusal without a delay at once', async () => {
    const held = new HeldRefusals({ maxDelayMs: 60_000, maxHeldPerCaller: 1 });
    const started = await refusingServer(held, { status: 400, message: 'bad', code: 'BAD_REQUEST' });
    server = started.server;
    expect((await post(started.port).answer).status).toBe(400);
    expect(held.size).toBe(0);
  });
});
