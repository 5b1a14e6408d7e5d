import { assertValidClientId, assertValidInstanceId } from '../presence/client-id';
import { InvalidInputError } from '../presence/errors';
import type { PresenceKey } from '../presence/types';

/**
 * `Device.id`: the device's global ID, stable and unique across instances, so that normalising client
 * caches (Apollo Client, urql Graphcache, Relay) key a device by it with no configuration. It is the
 * base64url (no padding) of `Device:<instanceId>/<clientId>`: neither part may hold a `/`, so the
 * first one splits them. Opaque to clients; other code of this service (several instances, `nodes`)
 * builds and reads it only through these two functions.
 */
const PREFIX = 'Device:';

export function deviceGlobalId(key: { readonly instanceId: string; readonly clientId: string }): string {
  return Buffer.from(`${PREFIX}${key.instanceId}/${key.clientId}`, 'utf8').toString('base64url');
}

/**
 * The instance and Client ID a global ID names, both checked (client-id.ts). Anything else (not
 * canonical base64url, another type's ID, a malformed part) throws `InvalidInputError`
 * (BAD_USER_INPUT): an ID is caller input, and never reaches the upstream unless valid.
 */
export function parseDeviceGlobalId(id: string): PresenceKey {
  const refused = (): InvalidInputError => new InvalidInputError(`${quote(id)} is not a Device ID of this service: pass a Device.id as it was received`);
  // 7 + 64 + 1 + 64 characters of text at most: a longer ID is refused before decoding.
  if (typeof id !== 'string' || id.length === 0 || id.length > 200 || !/^[A-Za-z0-9_-]+$/.test(id)) throw refused();
  const text = Buffer.from(id, 'base64url').toString('utf8');
  // Canonical only: one device has one ID, so a cache never holds it twice under two spellings.
  if (!text.startsWith(PREFIX) || Buffer.from(text, 'utf8').toString('base64url') !== id) throw refused();
  const slash = text.indexOf('/', PREFIX.length);
  if (slash < 0) throw refused();
  const key = { instanceId: text.slice(PREFIX.length, slash), clientId: text.slice(slash + 1) };
  try {
    assertValidInstanceId(key.instanceId);
    assertValidClientId(key.clientId);
  } catch (error) {
    throw new InvalidInputError(`${quote(id)} is not a valid Device ID: ${(error as Error).message}`);
  }
  return key;
}

function quote(value: unknown): string {
  const text = String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
