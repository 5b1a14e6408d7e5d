import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StsAuthority } from './sts-authority';

/** A test CA and a server certificate for 127.0.0.1 made with openssl; `caFile` is for NODE_EXTRA_CA_CERTS. */
export function makeTestCa(): { dir: string; caFile: string; key: Buffer; cert: Buffer; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'presence-test-ca-'));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=presence-graph test CA', '-keyout', at('ca.key'), '-out', at('ca.pem'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', at('server.key'), '-out', at('server.csr'));
  writeFileSync(at('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', at('san.ext'), '-out', at('server.pem'));
  return { dir, caFile: at('ca.pem'), key: readFileSync(at('server.key')), cert: readFileSync(at('server.pem')), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * STS over HTTPS answering `AssumeRoleWithOIDC` (version 2015-04-01) as `@alicloud/credentials` calls
 * it (providers/oidc_role_arn.js: POST, Action/Version/Format/Timestamp in the query, the rest as a
 * form). It checks what it is sent: the role, the OIDC provider, and that `OIDCToken` is the content
 * of the projected token file *now* (the kubelet rotates it); anything else is refused as STS would.
 */
export interface StsStandIn {
  /** host:port, for ALIBABA_CLOUD_STS_ENDPOINT. */
  endpoint: string;
  readonly assumed: Array<{ roleSessionName: string; oidcToken: string }>;
  readonly refused: string[];
  close(): Promise<void>;
}

export async function startStsStandIn(
  authority: StsAuthority,
  tls: { key: Buffer; cert: Buffer },
  expect: { roleArn: string; oidcProviderArn: string; tokenFile: string },
): Promise<StsStandIn> {
  const assumed: StsStandIn['assumed'] = [];
  const refused: string[] = [];
  const server = createServer(tls, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const query = new URL(req.url ?? '/', 'https://sts').searchParams;
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const refuse = (code: string) => {
        refused.push(code);
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ RequestId: randomUUID(), Code: code, Message: 'refused by the STS stand-in' }));
      };
      if (req.method !== 'POST' || query.get('Action') !== 'AssumeRoleWithOIDC' || query.get('Version') !== '2015-04-01') return refuse('InvalidAction.NotFound');
      if (form.get('RoleArn') !== expect.roleArn) return refuse('EntityNotExist.Role');
      if (form.get('OIDCProviderArn') !== expect.oidcProviderArn) return refuse('EntityNotExist.OIDCProvider');
      if (form.get('OIDCToken') !== readFileSync(expect.tokenFile, 'utf8')) return refuse('AuthenticationFail.OIDCToken.Invalid');
      assumed.push({ roleSessionName: form.get('RoleSessionName') ?? '', oidcToken: form.get('OIDCToken')! });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ RequestId: randomUUID(), Credentials: authority.current() }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    assumed,
    refused,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
