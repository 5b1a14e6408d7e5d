#!/usr/bin/env node
/**
 * Replays docs/deploy/Dockerfile without a Docker engine: each stage in a clean directory of its own
 * (standing for its /app), its COPY lines from the repository or from an earlier stage, its RUN lines
 * in a shell there with the stage's ENV, then starts the runtime stage's CMD as the image would
 * (NODE_ENV=production, on the local instance, which production refuses unless told) and runs its
 * HEALTHCHECK command. What it cannot replay: the base image (this machine's Node stands for
 * node:<version>-bookworm-slim), USER (the processes run as whoever runs this), the build context's
 * .dockerignore (COPY names exact paths anyway), and a read-only root filesystem.
 *
 *   node docs/deploy/replay-dockerfile.mjs            # keeps nothing; prints each step and the result
 *   KEEP=1 node docs/deploy/replay-dockerfile.mjs     # leaves the directories for a look
 */
import { execSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dockerfile = readFileSync(join(root, 'docs/deploy/Dockerfile'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'presence-graph-image-'));

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text) {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, name, rest] = /^(\S+)\s+(.*)$/.exec(line);
      return { name: name.toUpperCase(), rest };
    });
}

const stages = new Map();
let stage;
const inStage = (path) => join(stage.dir, path.replace(/^\/app\/?/, ''));

for (const { name, rest } of instructions(dockerfile)) {
  console.log(`> ${name} ${rest}`);
  switch (name) {
    case 'ARG':
      break;
    case 'FROM': {
      const [, as] = /\bAS\s+(\S+)/i.exec(rest) ?? [];
      stage = { name: as, dir: join(work, as ?? String(stages.size)), env: {} };
      mkdirSync(stage.dir, { recursive: true });
      stages.set(stage.name, stage);
      break;
    }
    case 'WORKDIR':
      if (rest !== '/app') throw new Error(`WORKDIR ${rest}: this replay knows /app only`);
      break;
    case 'ENV':
      for (const [, key, value] of rest.matchAll(/(\w+)=(\S+)/g)) stage.env[key] = value;
      break;
    case 'COPY': {
      const words = rest.split(/\s+/);
      const from = words[0].startsWith('--from=') ? stages.get(words.shift().slice('--from='.length)) : undefined;
      const destination = words.pop();
      for (const source of words) {
        const origin = from ? join(from.dir, source.replace(/^\/app\/?/, '')) : join(root, source);
        const target = destination.endsWith('/') ? join(inStage(destination), source.split('/').pop()) : inStage(destination);
        mkdirSync(dirname(target), { recursive: true });
        cpSync(origin, target, { recursive: true });
      }
      break;
    }
    case 'RUN':
      execSync(rest, { cwd: stage.dir, stdio: 'inherit', env: { ...process.env, ...stage.env } });
      break;
    case 'USER':
    case 'EXPOSE':
      stage[name.toLowerCase()] = rest;
      break;
    case 'HEALTHCHECK':
      stage.healthcheck = JSON.parse(rest.slice(rest.indexOf('CMD') + 3).trim());
      break;
    case 'CMD':
      stage.cmd = JSON.parse(rest);
      break;
    default:
      throw new Error(`${name}: not replayed here`);
  }
}

// The runtime stage as a container runs it. The local instance stands in for Alibaba Cloud.
const runtime = stage;
const freePort = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});
const service = spawn(runtime.cmd[0], runtime.cmd.slice(1), {
  cwd: runtime.dir,
  env: { PATH: process.env.PATH, ...runtime.env, LOCAL_IN_PRODUCTION: 'true', ALLOW_ANONYMOUS: 'true', ALLOWED_HOSTS: '*', PORT: String(freePort) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let log = '';
service.stdout.on('data', (chunk) => (log += chunk));
const healthy = () =>
  new Promise((resolve) => spawn(runtime.healthcheck[0], runtime.healthcheck.slice(1), { stdio: 'inherit' }).on('exit', (code) => resolve(code === 0)));
let ok = false;
for (let attempt = 0; attempt < 100 && !ok && service.exitCode === null; attempt++) {
  ok = await healthy();
  if (!ok) await new Promise((resolve) => setTimeout(resolve, 200));
}
service.kill('SIGTERM');
await new Promise((resolve) => service.once('exit', resolve));
if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
console.log(ok ? `\nreplayed: the runtime stage started and its HEALTHCHECK passed (${runtime.user === 'node' ? 'USER node' : `USER ${runtime.user}`}, not applied here)` : `\nFAILED: no healthy answer\n${log}`);
process.exit(ok ? 0 : 1);
