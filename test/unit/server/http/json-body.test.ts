import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { readJsonBody } from '../../../../src/server/http/json-body';
import { isRefusal } from '../../../../src/server/http/http-refusal';

const MAX_BYTES = 1024;

/** A real HTTP server that answers with what readJsonBody made of the request. */
describe('readJsonBody', () => {
  let server: Server;
  let port: number;
  /** What readJsonBody made of each request, as it settles (the answer may go nowhere). */
  const settled: Array<(read: Awaited<ReturnType<typeof readJsonBody>>) => void> = [];
  /** Told when the handler has a request (and is about to read its body). */
  const arrived: Array<() => void> = [];
  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const reading = readJsonBody(req, MAX_BYTES);
      arrived.shift()?.();
      const read = await reading;
      settled.shift()?.(read);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(isRefusal(read) ? { refused: read } : { body: read.body === undefined ? 'undefined' : read.body }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    new Promise<{ body?: unknown; refused?: { status: number; message: string; code: string } }>((resolve, reject) => {
      const req = request({ port, method: 'POST', path: '/', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('parses an object and an array (a batch), with or without a charset', async () => {
    expect(await post('{"query":"{ a }"}')).toEqual({ body: { query: '{ a }' } });
    expect(await post('[{"query":"{ a }"}]', { 'content-type': 'application/json; charset=utf-8' })).toEqual({ body: [{ query: '{ a }' }] });
  });

  it('reads UTF-8 split across chunks', async () => {
    const text = JSON.stringify({ query: 'é'.repeat(300) });
    expect(await post(Buffer.from(text, 'utf8'))).toEqual({ body: { query: 'é'.repeat(300) } });
  });

  it('leaves a body that is not application/json to Apollo, unread', async () => {
    expect(await post('query=x', { 'content-type': 'text/plain' })).toEqual({ body: 'undefined' });
    expect(await post('{}', {})).toEqual({ body: 'undefined' });
  });

  it('gives an empty JSON body as {}', async () => {
    expect(await post('')).toEqual({ body: {} });
  });

  it('refuses text that is not JSON, or JSON that is neither an object nor an array, with 400', async () => {
    const notJson = { refused: { status: 400, message: 'The request body is not valid JSON', code: 'BAD_REQUEST' } };
    expect(await post('{"query": ')).toMatchObject(notJson);
    expect(await post('"a string"')).toMatchObject(notJson);
    expect(await post('42')).toMatchObject(notJson);
  });

  it('refuses a body over the limit with 413, whether declared or sent without a length', async () => {
    const tooLarge = { refused: { status: 413, message: 'The request body is too large', code: 'BAD_REQUEST' } };
    const big = JSON.stringify({ query: 'x'.repeat(MAX_BYTES) });
    expect(await post(big)).toMatchObject(tooLarge);
    expect(await post(big, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })).toMatchObject(tooLarge);
    // Exactly at the limit is allowed.
    const atLimit = JSON.stringify({ q: 'x'.repeat(MAX_BYTES - 8) });
    expect(Buffer.byteLength(atLimit)).toBe(MAX_BYTES);
    expect(await post(atLimit)).toEqual({ body: { q: 'x'.repeat(MAX_BYTES - 8) } });
  });

  it('ends a request whose client goes away mid-body, instead of waiting for the rest', async () => {
    const read = new Promise<Awaited<ReturnType<typeof readJsonBody>>>((resolve) => settled.push(resolve));
    const reading = new Promise<void>((resolve) => arrived.push(resolve));
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":');
    });
    // The server is reading the body, 90 bytes of which will never come: the connection goes.
    await reading;
    socket.destroy();
    expect(await read).toMatchObject({ status: 400, message: 'The request body was not received whole' });
  });

  it('refuses other charsets and compressed bodies with 415', async () => {
    expect(await post('{}', { 'content-type': 'application/json; charset=utf-16' })).toMatchObject({ refused: { status: 415 } });
    expect(await post('{}', { 'content-type': 'application/json', 'content-encoding': 'gzip' })).toMatchObject({ refused: { status: 415 } });
  });
});
