import { MAX_CLIENT_ID_LENGTH, assertValidClientId, parseClientId } from '../../../src/presence/client-id';
import { PresenceErrorCode } from '../../../src/presence/errors';

/** What parseClientId makes of an ID: its parts, or the message it throws. */
function parsed(clientId: string): { groupId: string; deviceId: string } | string {
  try {
    return parseClientId(clientId);
  } catch (error) {
    return (error as Error).message;
  }
}

describe('assertValidClientId', () => {
  const group60 = `GID_${'g'.repeat(60)}`;
  const cases = [
    'GID_demo@@@device-1',
    'GID-demo@@@device_1',
    'GID_abc@@@x', // shortest Group ID: 7 characters
    'GID_ab@@@x', // Group ID of 6
    `${group60}@@@`, // 64 characters, but no Device ID
    `GID_${'g'.repeat(56)}@@@d`, // exactly 64 characters
    `GID_${'g'.repeat(57)}@@@d`, // 65 characters
    `${group60}x@@@d`, // Group ID of 65
    '',
    'GID_demo',
    'GID_demo@@device',
    'GID_demo@@@@device', // a fourth '@' makes the Device ID start with '@'
    'GID_demo@@@dev@@@ice', // a second separator inside the Device ID
    'GID_de@mo@@@device',
    'gid_demo@@@device',
    'GIDXdemo@@@device',
    'GID_demo@@@dev/ice',
    'GID_demo@@@dev ice',
    'GID_demo@@@device\n',
    'GID_demo\n@@@device',
    'GID_démo@@@device',
    'GID_demo@@@devicé',
    ` GID_demo@@@device`,
  ];

  it.each(cases)('accepts and refuses exactly what parseClientId does: %j', (clientId) => {
    const expected = parsed(clientId);
    if (typeof expected === 'string') {
      expect(() => assertValidClientId(clientId)).toThrow(expected);
    } else {
      expect(() => assertValidClientId(clientId)).not.toThrow();
    }
  });

  it('refuses an ID over the length limit with the same BAD_USER_INPUT error as parseClientId', () => {
    const tooLong = `GID_demo@@@${'d'.repeat(MAX_CLIENT_ID_LENGTH)}`;
    expect(() => assertValidClientId(tooLong)).toThrow(expect.objectContaining({ code: PresenceErrorCode.BadUserInput, message: parsed(tooLong) }));
  });
});
