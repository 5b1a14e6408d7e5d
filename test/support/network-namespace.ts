import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A Linux network namespace a test creates and deletes itself, so that an address the SDK fixes
 * (the ECS metadata service, 100.100.100.200) can be served on the namespace's own loopback: a packet
 * to it never leaves the namespace, and nothing outside can reach it. Needs root and iproute2's `ip`.
 * Missing either, the tests say so loudly and skip; under CI=true (root on this same machine kind)
 * they fail instead, because there a skip would hide that the ECS RAM role source was never run.
 */
export interface NetworkNamespace {
  readonly name: string;
  /** The arguments that run a command inside it: `ip netns exec <name>`, for spawn. */
  readonly exec: readonly string[];
  /** Deletes it, and with it every address and listener inside. Idempotent. */
  delete(): Promise<void>;
}

/** Creates `name` with its loopback up and `addresses` (CIDR) on it. Deletes it again if a step fails. */
export async function createNetworkNamespace(name: string, addresses: readonly string[]): Promise<NetworkNamespace> {
  await run('ip', ['netns', 'add', name]);
  let deleted = false;
  const namespace: NetworkNamespace = {
    name,
    exec: ['ip', 'netns', 'exec', name],
    async delete() {
      if (deleted) return;
      deleted = true;
      await run('ip', ['netns', 'delete', name]);
    },
  };
  try {
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    for (const address of addresses) await run('ip', ['-n', name, 'address', 'add', address, 'dev', 'lo']);
  } catch (error) {
    await namespace.delete();
    throw error;
  }
  return namespace;
}

/** Synchronous, once per file: jest picks `describe` or `describe.skip` while collecting tests. */
function whyNoNamespace(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (ip netns add needs CAP_SYS_ADMIN)';
  const probe = spawnSync('ip', ['netns', 'list'], { timeout: 5_000, encoding: 'utf8' });
  if (probe.status !== 0) return `no working iproute2 \`ip\` (${probe.stderr?.trim() || probe.error?.message || `exit ${probe.status}`})`;
  return undefined;
}

/** `describe` when a network namespace can be made; otherwise one failing test under CI=true, else a loud skip. */
export function describeInNetworkNamespace(name: string, body: () => void): void {
  const reason = whyNoNamespace();
  if (reason === undefined) return describe(name, body);
  if (process.env.CI === 'true') {
    return describe(name, () => {
      it('can create a network namespace (CI runs as root with iproute2)', () => {
        throw new Error(`a network namespace is required in CI: ${reason}`);
      });
    });
  }
  console.warn(
    [
      '',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      `!!! SKIPPED "${name}": ${reason}.`,
      '!!! The ECS RAM role source is NOT tested. Run the tests as root with iproute2.',
      '!!! Under CI=true this fails.',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    ].join('\n'),
  );
  describe.skip(name, body);
}
