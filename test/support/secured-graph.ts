import { LOCAL_DEFAULTS } from '../../src/config';
import { makeApiKey } from './credentials';
import { startTestGraph, type TestGraph } from './test-graph';

/** A caller allowed the local instance's `GID_fleet-*` devices only. */
export const dashboardKey = makeApiKey('dashboard', { instances: [LOCAL_DEFAULTS.instanceId], groups: ['GID_fleet-*'] });
/** A caller allowed every device. */
export const opsKey = makeApiKey('ops', { instances: ['*'], groups: ['*'] });

/** The whole service with AUTH_MODE=apikey and the two keys above, plus any overrides. */
export function startApiKeyGraph(env: Record<string, string> = {}): Promise<TestGraph> {
  return startTestGraph({ AUTH_MODE: 'apikey', API_KEYS: JSON.stringify([dashboardKey.entry, opsKey.entry]), ...env });
}

export function bearer(credential: string): Record<string, string> {
  return { authorization: `Bearer ${credential}` };
}

/** A JSON POST of any body (an operation, an array of them, or junk), answered as status and parsed JSON. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
