/**
 * Runs INSIDE a network namespace (network-namespace.ts), started by a test with `ip netns exec`:
 * the ECS metadata stand-in on 100.100.100.200:80, the checking onsmqtt stand-in on the namespace's
 * loopback, both fed by one StsAuthority, and the test's hands for what it cannot reach from outside
 * (the service's GraphQL and /readyz, also inside). Answers the test over the IPC channel; exits when
 * the test goes away, so nothing outlives it. Usage: node -r ts-node/register/transpile-only
 * ecs-namespace-agent.ts <roleName> <rotateEveryMs> <lifeMs>
 */
import { startCheckingOpenApi } from './checking-openapi';
import { startEcsMetadataStandIn } from './ecs-metadata-stand-in';
import { postGraphQL } from './graphql-client';
import { StsAuthority } from './sts-authority';

export type AgentRequest =
  | { op: 'load'; url: string; durationMs: number; workers: number }
  | { op: 'lookup'; url: string; clientId: string }
  | { op: 'readyz'; url: string }
  | { op: 'metadata'; answering: boolean }
  | { op: 'stats' };

export interface AgentStats {
  metadataRequests: Array<{ method: string; path: string; token: string }>;
  acceptedCalls: number;
  acceptedKeys: number;
  refused: Array<[string, number]>;
  issued: number;
}

async function main(): Promise<void> {
  const [roleName, rotateEveryMs, lifeMs] = process.argv.slice(2);
  const authority = new StsAuthority({ rotateEveryMs: Number(rotateEveryMs), lifeMs: Number(lifeMs) });
  const metadata = await startEcsMetadataStandIn(authority, roleName);
  const upstream = await startCheckingOpenApi(authority);
  let serial = 0;

  const handle = async (request: AgentRequest): Promise<unknown> => {
    switch (request.op) {
      case 'load': {
        const failures: Record<string, number> = {};
        let answered = 0;
        const until = Date.now() + request.durationMs;
        await Promise.all(
          Array.from({ length: request.workers }, async () => {
            while (Date.now() < until) {
              const ids = Array.from({ length: 5 }, () => `GID_ecs@@@dev-${serial++}`);
              const response = await postGraphQL<{ devices: Array<{ online: boolean | null }> }>(request.url, 'query($ids: [ID!]!) { devices(clientIds: $ids) { online } }', { ids });
              for (const error of response.errors ?? []) failures[String(error.extensions?.code)] = (failures[String(error.extensions?.code)] ?? 0) + 1;
              answered += response.data?.devices.filter((device) => device.online === true).length ?? 0;
            }
          }),
        );
        return { answered, failures };
      }
      case 'lookup':
        return postGraphQL(request.url, `{ device(clientId: "${request.clientId}") { online } }`);
      case 'readyz': {
        const response = await fetch(request.url);
        return { status: response.status, body: await response.json() };
      }
      case 'metadata':
        metadata.answering = request.answering;
        return { answering: metadata.answering };
      case 'stats':
        return {
          metadataRequests: metadata.requests,
          acceptedCalls: upstream.accepted.count,
          acceptedKeys: upstream.accepted.keys.size,
          refused: [...upstream.refused],
          issued: authority.issued,
        } satisfies AgentStats;
    }
  };

  process.on('message', (message: { id: number; request: AgentRequest }) => {
    handle(message.request).then(
      (result) => process.send!({ id: message.id, result }),
      (error: unknown) => process.send!({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  process.once('disconnect', () => {
    void Promise.allSettled([metadata.close(), upstream.close()]).then(() => process.exit(0));
  });
  process.send!({ ready: { openApiEndpoint: upstream.endpoint } });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
