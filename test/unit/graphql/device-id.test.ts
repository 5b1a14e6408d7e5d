import { deviceGlobalId, parseDeviceGlobalId } from '../../../src/graphql/device-id';
import { InvalidInputError } from '../../../src/presence/errors';

const key = { instanceId: 'mqtt-cn-abc123', clientId: 'GID_fleet@@@device-1' };

describe('Device global IDs', () => {
  it('are base64url of `Device:<instanceId>/<clientId>`, and read back to the same key', () => {
    const id = deviceGlobalId(key);
    expect(Buffer.from(id, 'base64url').toString('utf8')).toBe('Device:mqtt-cn-abc123/GID_fleet@@@device-1');
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(parseDeviceGlobalId(id)).toEqual(key);
  });

  it('differ between instances for the same Client ID', () => {
    expect(deviceGlobalId(key)).not.toBe(deviceGlobalId({ ...key, instanceId: 'mqtt-cn-other' }));
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'Device:mqtt-cn-abc123/GID_fleet@@@device-1'],
    ['another type', Buffer.from('User:mqtt-cn-abc123/GID_fleet@@@device-1').toString('base64url')],
    ['no separator', Buffer.from('Device:mqtt-cn-abc123').toString('base64url')],
    ['a malformed Client ID', Buffer.from('Device:mqtt-cn-abc123/GID_fleet@@device-1').toString('base64url')],
    ['a malformed instance', Buffer.from('Device:-bad instance/GID_fleet@@@device-1').toString('base64url')],
    ['padded (not canonical)', `${deviceGlobalId(key)}=`],
    ['too long', 'A'.repeat(201)],
  ])('refuses %s with BAD_USER_INPUT', (_what, id) => {
    expect(() => parseDeviceGlobalId(id)).toThrow(InvalidInputError);
    try {
      parseDeviceGlobalId(id);
    } catch (error) {
      expect((error as InvalidInputError).code).toBe('BAD_USER_INPUT');
    }
  });
});
