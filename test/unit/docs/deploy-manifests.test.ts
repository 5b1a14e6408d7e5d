import { mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../src/config';
import { createOpsApp } from '../../../src/server/http/http-app';
import { PresenceMetrics } from '../../../src/server/observability/metrics';
import { namesInFirstColumn } from '../../support/configuration-reference';

/**
 * docs/deploy/ as far as this machine can check it without a cluster or a Docker engine: the
 * Kubernetes manifests parse, set only variables of docs/configuration.md, load as a valid production
 * configuration, probe the operator port's real paths, and keep the replica count within
 * UPSTREAM_REPLICAS; the Dockerfile copies files that exist and runs the service as the image's user.
 * docs/deploy/replay-dockerfile.mjs replays the Dockerfile's stages themselves (docs/deploy/README.md).
 */
const ROOT = resolve(__dirname, '../../..');
const DEPLOY = join(ROOT, 'docs', 'deploy');

type Manifest = { kind: string; metadata: { name: string }; [field: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

const manifests: Manifest[] = readdirSync(join(DEPLOY, 'kubernetes'))
  .filter((name) => name.endsWith('.yaml'))
  .flatMap((name) =>
    parseAllDocuments(readFileSync(join(DEPLOY, 'kubernetes', name), 'utf8')).map((document) => {
      if (document.errors.length > 0) throw new Error(`${name}: ${document.errors[0].message}`);
      return document.toJS() as Manifest;
    }),
  );
const one = (kind: string): Manifest => {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
};

const deployment = one('Deployment');
const configMap = one('ConfigMap');
const secret = one('Secret');
const container = deployment.spec.template.spec.containers[0];
const portNumber = (name: string | number): number =>
  typeof name === 'number' ? name : container.ports.find((port: { name: string }) => port.name === name).containerPort;

/** The environment a pod gets: the ConfigMap (envFrom) and the container's own variables, from the Secret. */
function podEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      expect(from.configMapRef.name).toBe(configMap.metadata.name);
      Object.assign(env, configMap.data);
    }
    if (from.secretRef) {
      expect(from.secretRef.name).toBe(secret.metadata.name);
      Object.assign(env, secret.stringData);
    }
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) {
      expect(ref.name).toBe(secret.metadata.name);
      expect(secret.stringData).toHaveProperty([ref.key]);
    }
    env[variable.name] = ref ? secret.stringData[ref.key] : variable.value;
  }
  return env;
}

describe('the Kubernetes manifests (docs/deploy/kubernetes)', () => {
  const env = podEnvironment();

  it('hold a Deployment, Service, ConfigMap, Secret, PodDisruptionBudget and HorizontalPodAutoscaler', () => {
    expect(manifests.map((manifest) => manifest.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Secret', 'Service'].sort(),
    );
  });

  it('set only environment variables of the configuration reference', () => {
    const documented = namesInFirstColumn();
    expect(Object.keys(env).length).toBeGreaterThan(10);
    expect(Object.keys(env).filter((name) => !documented.has(name))).toEqual([]);
  });

  it('load as a production configuration, the API keys file mounted where API_KEYS_FILE says', () => {
    const mount = container.volumeMounts.find((volume: { mountPath: string }) => env.API_KEYS_FILE.startsWith(`${volume.mountPath}/`));
    const item = deployment.spec.template.spec.volumes.find((volume: { name: string }) => volume.name === mount.name).secret.items[0];
    expect(join(mount.mountPath, item.path)).toBe(env.API_KEYS_FILE);
    // The mounted file's content, where this test can read it.
    const keysFile = join(mkdtempSync(join(tmpdir(), 'deploy-keys-')), 'api-keys.json');
    writeFileSync(keysFile, secret.stringData[item.key]);
    const config = loadConfig({ ...env, API_KEYS_FILE: keysFile });
    expect(config.nodeEnv).toBe('production');
    expect(config.port).toBe(portNumber('graphql'));
    expect(config.web.ops?.port).toBe(portNumber('ops'));
  });

  describe('probes', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      server = createServer(createOpsApp({ metrics: new PresenceMetrics({ processMetrics: false }), readiness: [] }));
      await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((closed) => server.close(() => closed())));

    it.each(['livenessProbe', 'readinessProbe'])('%s asks the operator port for a path it answers', async (probe) => {
      const { path, port } = container[probe].httpGet;
      // The ops port, which the configuration test above finds to be where the service serves them.
      expect(port).toBe('ops');
      expect((await fetch(`${base}${path}`)).status).toBe(200);
    });

    it('probe liveness and readiness on different paths, the Prometheus annotation on the same port', () => {
      expect([container.livenessProbe.httpGet.path, container.readinessProbe.httpGet.path]).toEqual(['/healthz', '/readyz']);
      expect(Number(deployment.spec.template.metadata.annotations['prometheus.io/port'])).toBe(portNumber('ops'));
    });
  });

  it('route the Service to the GraphQL port only, never the operator port', () => {
    const ports = one('Service').spec.ports.map((port: { targetPort: string | number }) => portNumber(port.targetPort));
    expect(ports).toEqual([portNumber('graphql')]);
  });

  it('never run more replicas than UPSTREAM_REPLICAS, and keep one through a drain', () => {
    const most = Math.max(deployment.spec.replicas, one('HorizontalPodAutoscaler').spec.maxReplicas);
    expect(most).toBeLessThanOrEqual(Number(env.UPSTREAM_REPLICAS));
    expect(one('HorizontalPodAutoscaler').spec.scaleTargetRef.name).toBe(deployment.metadata.name);
    const pdb = one('PodDisruptionBudget');
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
  });

  it('run as a non-root user', () => {
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(deployment.spec.template.spec.securityContext.runAsUser).toBeGreaterThan(0);
  });
});

describe('the Dockerfile (docs/deploy/Dockerfile)', () => {
  const lines = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ').split('\n').filter((line) => /^[A-Z]+\s/.test(line));
  const stages = lines.reduce<string[][]>((all, line) => (line.startsWith('FROM ') ? [...all, [line]] : (all.at(-1)?.push(line), all)), []);
  const runtime = stages.at(-1)!;

  it('builds in stages, copying only files that exist in the repository', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    for (const line of lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from='))) {
      const sources = line.split(/\s+/).slice(1, -1);
      for (const source of sources) expect(existsSync(join(ROOT, source))).toBe(true);
    }
  });

  it('runs as the non-root node user, with production dependencies only', () => {
    expect(runtime).toContain('USER node');
    const dependencies = /COPY --from=(\S+) \/app\/node_modules/.exec(runtime.join('\n'))![1];
    const stage = stages.find((s) => s[0].endsWith(` AS ${dependencies}`))!;
    expect(stage.some((line) => /npm ci .*--omit=dev/.test(line))).toBe(true);
  });

  it('starts what npm start starts, and checks its health on the operator port', () => {
    const start = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string;
    const cmd = JSON.parse(runtime.find((line) => line.startsWith('CMD '))!.slice(4)) as string[];
    expect(cmd.join(' ')).toBe(start);
    const healthcheck = runtime.find((line) => line.startsWith('HEALTHCHECK '))!;
    expect(healthcheck).toContain(`http://127.0.0.1:${configMap.data.OPS_PORT}/healthz`);
    expect(runtime).toContain('ENV NODE_ENV=production');
  });
});
