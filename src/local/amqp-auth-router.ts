import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { hostPort, listen } from './listen';

/**
 * RabbitMQ's HTTP auth backend asks one URL; several local instances (local-instances.ts) sharing one broker each check
 * their own logins (amqp-auth-endpoint.ts). This passes each question, unchanged, to the endpoint of
 * the instance its username names (base64 "0:<instanceId>:<accessKeyId>[:token]"), as the cloud's
 * instances each check their own; a username naming no known instance is denied here.
 */
export async function startAmqpAuthRouter(authUrlOf: Readonly<Record<string, string>>, host = '127.0.0.1', port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((incoming, response) => {
    void (async () => {
      const body = await readAll(incoming);
      const url = new URL(incoming.url ?? '/', 'http://router');
      const params = incoming.method === 'POST' ? new URLSearchParams(body.toString('utf8')) : url.searchParams;
      const instanceId = Buffer.from(params.get('username') ?? '', 'base64').toString('utf8').split(':')[1] ?? '';
      const target = Object.hasOwn(authUrlOf, instanceId) ? authUrlOf[instanceId] : undefined;
      if (!target) {
        response.writeHead(200, { 'content-type': 'text/plain' }).end('deny');
        return;
      }
      // /auth/user → <instance's endpoint>/user, with the same query string and body.
      const forwarded = new URL(`${target}${url.pathname.replace(/^\/auth/, '')}${url.search}`);
      const answer = await new Promise<{ status: number; text: Buffer }>((resolve, reject) => {
        const outgoing = httpRequest(forwarded, { method: incoming.method, headers: { 'content-type': incoming.headers['content-type'] ?? 'application/x-www-form-urlencoded' } }, (reply) => {
          readAll(reply).then((text) => resolve({ status: reply.statusCode ?? 502, text }), reject);
        });
        outgoing.on('error', reject);
        outgoing.end(body);
      });
      response.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.text);
    })().catch(() => {
      if (!response.headersSent) response.writeHead(200, { 'content-type': 'text/plain' }).end('deny');
    });
  });
  const bound = await listen(server, host, port);
  return {
    url: `http://${hostPort(host, bound)}/auth`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
