import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AgentRequest, AgentStats } from '../../support/ecs-namespace-agent';
import { ECS_METADATA_ADDRESS } from '../../support/ecs-metadata-stand-in';
import { readyUrl, startMain, type MainProcess } from '../../support/main-process';
import { createNetworkNamespace, describeInNetworkNamespace, type NetworkNamespace } from '../../support/network-namespace';
import { waitFor } from '../../support/wait-for';

const run = promisify(execFile);
const ROLE = 'presence-graph-role';
/** A new key every 1.5 s, each valid 4 s: renewed at half-life, so a new one about every 2 s. */
const ROTATE_EVERY_MS = 1_500;
const LIFE_MS = 4_000;
const LOAD_MS = 8_000;
const AGENT = join(__dirname, '..', '..', 'support', 'ecs-namespace-agent.ts');
const ROOT = join(__dirname, '..', '..', '..');

/**
 * ALIBABA_CLOUD_CREDENTIALS_SOURCE=ecs-ram-role where the SDK's fixed address can be served: a network
 * namespace this test creates, with 100.100.100.200/32 on its own loopback, the metadata stand-in
 * (IMDSv2 only) and the checking onsmqtt stand-in in it, and the whole service (`npm start`'s entry)
 * in it too. Only processes inside the namespace have ALIBABA_CLOUD_ECS_METADATA_DISABLED=false; a
 * packet to 100.100.100.200 cannot leave it, and nothing outside has a route to what answers there.
 */
describeInNetworkNamespace('credentials from the ECS RAM role, in a network namespace of the test’s own', () => {
  let namespace: NetworkNamespace | undefined;
  let agent: ChildProcess | undefined;
  let main: MainProcess | undefined;
  let url: string;
  let requestSerial = 0;

  /** One request to the agent inside the namespace, answered over IPC. */
  const ask = <T>(request: AgentRequest): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = ++requestSerial;
      const onMessage = (message: { id?: number; result?: T; error?: string }) => {
        if (message.id !== id) return;
        agent!.off('message', onMessage);
        if (message.error !== undefined) reject(new Error(message.error));
        else resolve(message.result as T);
      };
      agent!.on('message', onMessage);
      agent!.send({ id, request });
    });
  const stats = () => ask<AgentStats>({ op: 'stats' });
  const readyz = () => ask<{ status: number; body: { status: string; failures: Record<string, string>; ready?: Record<string, string> } }>({ op: 'readyz', url: url.replace('/graphql', '/readyz') });

  beforeAll(async () => {
    namespace = await createNetworkNamespace(`pg-ecs-${process.pid}`, [`${ECS_METADATA_ADDRESS}/32`]);
    const child = (agent = spawn(namespace.exec[0], [...namespace.exec.slice(1), process.execPath, '-r', 'ts-node/register/transpile-only', AGENT, ROLE, String(ROTATE_EVERY_MS), String(LIFE_MS)], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }));
    const { openApiEndpoint } = await new Promise<{ openApiEndpoint: string }>((resolve, reject) => {
      child.once('message', (message: { ready?: { openApiEndpoint: string } }) => (message.ready ? resolve(message.ready) : reject(new Error('agent said something else first'))));
      child.once('exit', (code) => reject(new Error(`the agent exited with ${code} before it was ready`)));
    });
    main = startMain(
      {
        PRESENCE_SOURCE: 'alibaba',
        ALLOW_ANONYMOUS: 'true',
        STATUS_NOTICES: 'off',
        ONSMQTT_ENDPOINT: openApiEndpoint,
        MQTT_INSTANCE_ID: 'post-cn-ecsrole01',
        PRESENCE_CACHE_TTL_MS: '0',
        UPSTREAM_RETRY_MAX_ATTEMPTS: '1',
        CALLER_LOOKUPS_PER_SECOND: '100000',
        CALLER_OPERATIONS_PER_SECOND: '100000',
        ALIBABA_CLOUD_CREDENTIALS_SOURCE: 'ecs-ram-role',
        // Inside the namespace only: the one process here allowed to ask 100.100.100.200.
        ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'false',
        // Hardened mode: the SDK must take an IMDSv2 token first (the stand-in refuses v1 anyway).
        ALIBABA_CLOUD_IMDSV1_DISABLED: 'true',
      },
      namespace.exec,
    );
    url = await readyUrl(main);
  }, 40_000);

  afterAll(async () => {
    try {
      main?.child.kill('SIGTERM');
      await main?.exited;
      if (agent && agent.exitCode === null) {
        const exited = new Promise((resolve) => agent!.once('exit', resolve));
        agent.disconnect();
        await exited;
      }
    } finally {
      await namespace?.delete();
    }
  }, 20_000);

  it('serves 100.100.100.200 only inside the namespace: the host has no such address', async () => {
    const { stdout: host } = await run('ip', ['-o', 'address', 'show']);
    expect(host).not.toContain(ECS_METADATA_ADDRESS);
    const { stdout: inside } = await run(namespace!.exec[0], [...namespace!.exec.slice(1), 'ip', '-o', 'address', 'show', 'dev', 'lo']);
    expect(inside).toContain(`${ECS_METADATA_ADDRESS}/32`);
  });

  it('asks the metadata service for an IMDSv2 token, then the role and its key, and names the source in the start log', async () => {
    expect(main!.output()).toContain('"credentials":{"source":"ecs-ram-role","from":"ECS RAM role (named by the metadata service)"}');
    const { metadataRequests } = await stats();
    expect(metadataRequests.slice(0, 4)).toEqual([
      { method: 'PUT', path: '/latest/api/token', token: 'none' },
      { method: 'GET', path: '/latest/meta-data/ram/security-credentials/', token: 'valid' },
      { method: 'PUT', path: '/latest/api/token', token: 'none' },
      { method: 'GET', path: `/latest/meta-data/ram/security-credentials/${ROLE}`, token: 'valid' },
    ]);
    // Every GET carried a token the stand-in issued: the SDK never fell back to IMDSv1.
    expect(metadataRequests.filter(({ method, token }) => method === 'GET' && token !== 'valid')).toEqual([]);
  });

  it('renews the role’s key ahead of its Expiration under load, and no lookup fails or is refused upstream', async () => {
    const before = await stats();
    const { answered, failures } = await ask<{ answered: number; failures: Record<string, number> }>({ op: 'load', url, durationMs: LOAD_MS, workers: 4 });
    const after = await stats();
    console.info(`ecs: ${answered} devices answered in ${LOAD_MS} ms, ${after.acceptedCalls - before.acceptedCalls} calls, ${after.acceptedKeys - before.acceptedKeys} new keys, ${after.issued} issued`);
    expect(failures).toEqual({});
    expect(after.refused).toEqual([]);
    expect(answered).toBeGreaterThan(50);
    // At a new key about every 2 s, 8 s of load is signed with at least 3 keys not used before.
    expect(after.acceptedKeys - before.acceptedKeys).toBeGreaterThanOrEqual(3);
  }, LOAD_MS + 10_000);

  it('/readyz names the source while ready; when the metadata service stops answering it is not ready, naming it, and recovers by itself', async () => {
    const ready = await readyz();
    expect(ready).toEqual({ status: 200, body: { status: 'ready', failures: {}, ready: { credentials: 'ecs-ram-role: ECS RAM role (named by the metadata service)' } } });
    await ask({ op: 'metadata', answering: false });
    const notReady = await waitFor('/readyz not ready', async () => {
      const answer = await readyz();
      return answer.status === 503 ? answer : undefined;
    }, LIFE_MS + 5_000, 100);
    expect(notReady!.body.failures.credentials).toMatch(/^No valid Alibaba Cloud credentials from source ecs-ram-role \(ECS RAM role \(named by the metadata service\)\)/);
    await ask({ op: 'metadata', answering: true });
    await waitFor('/readyz ready again', async () => (await readyz()).status === 200, 15_000, 100);
    const lookup = await ask<{ data?: { device: { online: boolean } } }>({ op: 'lookup', url, clientId: 'GID_ecs@@@after' });
    expect(lookup.data).toEqual({ device: { online: true } });
    expect(JSON.stringify(notReady)).not.toContain('tok-');
    expect((await stats()).refused).toEqual([]);
  }, 30_000);
});
