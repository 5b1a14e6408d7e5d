import { UNRESTRICTED } from '../../../src/common/caller';
import { scopePredicate } from '../../../src/presence/caller-scope';

const device = (clientId: string, instanceId = 'mqtt-cn-prod') => ({ instanceId, clientId });

describe('scopePredicate', () => {
  const scope = scopePredicate({ instances: ['mqtt-cn-prod'], groups: ['GID_fleet-*', 'GID_lab'] });

  it('allows a device of an allowed instance whose Group ID matches a pattern', () => {
    expect(scope(device('GID_fleet-eu@@@truck-1'))).toBe(true);
    expect(scope(device('GID_lab@@@bench-1'))).toBe(true);
  });

  it('refuses a device of another Group ID, even one that starts like an exact pattern', () => {
    expect(scope(device('GID_labs@@@bench-1'))).toBe(false);
    expect(scope(device('GID_other@@@x'))).toBe(false);
  });

  it('refuses an allowed Group ID on an instance outside the scope', () => {
    expect(scope(device('GID_lab@@@bench-1', 'mqtt-cn-staging'))).toBe(false);
  });

  it('allows nothing with empty lists: a token without scope claims may ask about no device', () => {
    expect(scopePredicate({ instances: [], groups: [] })(device('GID_lab@@@bench-1'))).toBe(false);
  });

  it('allows every device, malformed ones included, to an unrestricted caller', () => {
    const anyone = scopePredicate(UNRESTRICTED);
    expect(anyone(device('GID_x12@@@y', 'any-instance'))).toBe(true);
    expect(anyone(device('not-a-client-id'))).toBe(true);
  });
});
