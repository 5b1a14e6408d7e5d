import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenApiFault } from '../../src/local/openapi-errors';
import { headerValue, SignatureVerifier } from '../../src/local/openapi-signature';
import type { StsAuthority } from './sts-authority';

/**
 * An onsmqtt endpoint that accepts only the credentials current at each moment: the AccessKey must be
 * issued and unexpired by the authority, `x-acs-security-token` must be its token (and signed: the
 * verifier refuses an unsigned `x-acs-*` header), and the V3 signature must check with its secret
 * (src/local/openapi-signature.ts, written from the spec, not from the SDK). Every device is online.
 */
export interface CheckingOpenApi {
  endpoint: string;
  /** Calls accepted, and refused by code. */
  readonly accepted: { count: number; keys: Set<string> };
  readonly refused: Map<string, number>;
  close(): Promise<void>;
}

export async function startCheckingOpenApi(authority: StsAuthority): Promise<CheckingOpenApi> {
  const verifiers = new Map<string, SignatureVerifier>();
  const accepted = { count: 0, keys: new Set<string>() };
  const refused = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const body = Buffer.concat(chunks);
      const query = new Map(url.searchParams);
      const params = new Map([...query, ...new URLSearchParams(body.toString('utf8'))]);
      const send = (status: number, answer: object) => {
        res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
        res.end(JSON.stringify({ RequestId: randomUUID(), ...answer }));
      };
      const refuse = (code: string) => {
        refused.set(code, (refused.get(code) ?? 0) + 1);
        send(code.startsWith('Invalid') ? 403 : 400, { Code: code, Message: 'refused by the checking stand-in' });
      };
      const accessKeyId = /Credential=([^,]*),/.exec(headerValue(req.headers, 'authorization') ?? '')?.[1] ?? '';
      const verdict = authority.check(accessKeyId, headerValue(req.headers, 'x-acs-security-token'));
      if (!verdict.ok) return refuse(verdict.code);
      let verifier = verifiers.get(accessKeyId);
      if (!verifier) verifiers.set(accessKeyId, (verifier = new SignatureVerifier({ accessKeyId, accessKeySecret: verdict.secret })));
      try {
        verifier.verify({ method: req.method ?? 'POST', query, params, headers: req.headers, body }, Date.now());
      } catch (error) {
        return refuse(error instanceof OpenApiFault ? error.code : 'SignatureDoesNotMatch');
      }
      accepted.count++;
      accepted.keys.add(accessKeyId);
      if (headerValue(req.headers, 'x-acs-action') === 'QuerySessionByClientId') return send(200, { OnlineStatus: true });
      const ids = [...params].filter(([name]) => name.startsWith('ClientIdList.')).map(([, id]) => id);
      send(200, { OnlineStatusList: ids.map((ClientId) => ({ ClientId, OnlineStatus: true })) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted,
    refused,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
