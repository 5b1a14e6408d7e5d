import { InvalidInputError } from './errors';

/**
 * Client ID rules of ApsaraMQ for MQTT (upstream-api.md, "Client IDs"):
 * `<GroupID>@@@<DeviceID>`, at most 64 characters, unique per instance.
 * Group ID: `GID_` or `GID-` prefix, 7–64 characters of letters, digits, `-`, `_`.
 * Device ID: letters, digits, `-`, `_` (the docs warn that `/ : , %` break connections).
 *
 * Checked before anything goes upstream, so a malformed ID fails only itself and is never billed.
 */
export const MAX_CLIENT_ID_LENGTH = 64;
const SEPARATOR = '@@@';
const GROUP_ID = /^GID[-_][A-Za-z0-9_-]{3,60}$/;
const DEVICE_ID = /^[A-Za-z0-9_-]+$/;
const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
// GROUP_ID, the separator and DEVICE_ID as one pattern. Neither part may hold an '@', so its '@@@'
// is the first one in the ID, where parseClientId splits: the two accept exactly the same IDs.
const CLIENT_ID = /^GID[-_][A-Za-z0-9_-]{3,60}@@@[A-Za-z0-9_-]+$/;

export interface ParsedClientId {
  groupId: string;
  deviceId: string;
}

/** Splits a Client ID into its Group ID and Device ID, or throws an `InvalidInputError` saying why. */
export function parseClientId(clientId: string): ParsedClientId {
  if (clientId.length === 0) throw new InvalidInputError('Client ID is empty');
  if (clientId.length > MAX_CLIENT_ID_LENGTH) {
    throw new InvalidInputError(`Client ID is ${clientId.length} characters long; at most ${MAX_CLIENT_ID_LENGTH} are allowed`);
  }
  const at = clientId.indexOf(SEPARATOR);
  if (at < 0) throw new InvalidInputError(`Client ID ${quote(clientId)} must have the form <GroupID>@@@<DeviceID>`);
  const groupId = clientId.slice(0, at);
  const deviceId = clientId.slice(at + SEPARATOR.length);
  if (!GROUP_ID.test(groupId)) {
    throw new InvalidInputError(
      `Client ID ${quote(clientId)} has an invalid Group ID: it must start with GID_ or GID-, be 7 to 64 characters, and use only letters, digits, '-' and '_'`,
    );
  }
  if (!DEVICE_ID.test(deviceId)) {
    throw new InvalidInputError(
      `Client ID ${quote(clientId)} has an invalid Device ID: it must be non-empty and use only letters, digits, '-' and '_'`,
    );
  }
  return { groupId, deviceId };
}

/**
 * Throws what `parseClientId` throws for a malformed Client ID, and otherwise returns without splitting
 * it: the check of every key a request looks up, so a valid ID costs one pattern test and no garbage.
 */
export function assertValidClientId(clientId: string): void {
  if (clientId.length > MAX_CLIENT_ID_LENGTH || !CLIENT_ID.test(clientId)) parseClientId(clientId);
}

/** Whether a Client ID follows the rules; for callers that only need a yes or no (the emulator). */
export function isValidClientId(clientId: string): boolean {
  try {
    parseClientId(clientId);
    return true;
  } catch {
    return false;
  }
}

/** Instance IDs look like `post-cn-0pp12gl****` or `mqtt-cn-…`: checked loosely, mostly against injection. */
export function assertValidInstanceId(instanceId: string): void {
  if (!INSTANCE_ID.test(instanceId)) {
    throw new InvalidInputError(`Instance ID ${quote(instanceId)} is not a valid ApsaraMQ for MQTT instance ID`);
  }
}

/** Quotes user input for an error message, cut short so an error never echoes a huge string back. */
function quote(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(shown);
}
