import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { StsAuthority } from './sts-authority';

/** The address `@alicloud/credentials` fixes for the ECS metadata service (providers/ecs_ram_role.js), port 80. */
export const ECS_METADATA_ADDRESS = '100.100.100.200';

const TOKEN_PATH = '/latest/api/token';
const ROLES_PATH = '/latest/meta-data/ram/security-credentials/';

/** One request the stand-in received: what it asked for, and whether it carried a valid IMDSv2 token. */
export interface MetadataRequest {
  method: string;
  path: string;
  token: 'none' | 'valid' | 'invalid';
}

/**
 * The ECS instance metadata service for one RAM role, in hardened mode (IMDSv2 only): `PUT
 * /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds` hands out a session token, and
 * the role list and the role's credentials are answered only with that token in
 * `X-aliyun-ecs-metadata-token`; the credentials are the authority's current key in the shape the
 * SDK reads (`Code`, `AccessKeyId`, `AccessKeySecret`, `SecurityToken`, `Expiration`).
 * `answering = false` cuts every connection without a byte, as an unreachable service would.
 *
 * Only ever listen on ECS_METADATA_ADDRESS inside a network namespace of the test's own.
 */
export interface EcsMetadataStandIn {
  answering: boolean;
  readonly requests: MetadataRequest[];
  close(): Promise<void>;
}

export async function startEcsMetadataStandIn(authority: StsAuthority, roleName: string, host = ECS_METADATA_ADDRESS): Promise<EcsMetadataStandIn> {
  const tokens = new Set<string>();
  const state = { answering: true };
  const requests: MetadataRequest[] = [];
  const server = createServer((req, res) => {
    if (!state.answering) return req.socket.destroy();
    const path = new URL(req.url ?? '/', 'http://metadata').pathname;
    const sent = req.headers['x-aliyun-ecs-metadata-token'];
    const token: MetadataRequest['token'] = sent === undefined ? 'none' : typeof sent === 'string' && tokens.has(sent) ? 'valid' : 'invalid';
    requests.push({ method: req.method ?? '', path, token });
    const answer = (status: number, body: string) => res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    if (req.method === 'PUT' && path === TOKEN_PATH) {
      const ttl = Number(req.headers['x-aliyun-ecs-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) return answer(400, 'bad ttl');
      const issued = randomBytes(24).toString('base64url');
      tokens.add(issued);
      return answer(200, issued);
    }
    if (req.method !== 'GET') return answer(405, 'method not allowed');
    if (token !== 'valid') return answer(401, 'IMDSv2 token required');
    if (path === ROLES_PATH) return answer(200, roleName);
    if (path === `${ROLES_PATH}${roleName}`) {
      const key = authority.current();
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Code: 'Success', ...key, LastUpdated: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') }));
    }
    answer(404, 'not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(80, host, resolve);
  });
  return {
    get answering() {
      return state.answering;
    },
    set answering(value) {
      state.answering = value;
    },
    requests,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
