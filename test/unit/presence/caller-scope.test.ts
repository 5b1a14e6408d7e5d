import { UNRESTRICTED } from '../../../src/common/caller';
import { REMEMBERED_CLIENT_IDS_PER_SCOPE, scopePredicate } from '../../../src/presence/caller-scope';

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

  it('keeps its verdicts when asked again, across instances and past the remembered IDs’ bound', () => {
    const fleet = { instances: ['mqtt-cn-prod'], groups: ['GID_fleet-*'] };
    const asked = scopePredicate(fleet);
    expect(scopePredicate(fleet)).toBe(asked);
    for (let round = 0; round < 2; round++) {
      expect(asked(device('GID_fleet-eu@@@truck-1'))).toBe(true);
      // The same Client ID on an instance outside the scope, then back: the instance is checked each time.
      expect(asked(device('GID_fleet-eu@@@truck-1', 'mqtt-cn-staging'))).toBe(false);
      expect(asked(device('GID_fleet-eu@@@truck-1'))).toBe(true);
      expect(asked(device('GID_lab@@@bench-1'))).toBe(false);
      expect(asked(device('not-a-client-id'))).toBe(false);
      // More made-up IDs than it remembers: the memory is emptied, the answers stay right.
      for (let i = 0; i <= REMEMBERED_CLIENT_IDS_PER_SCOPE; i++) expect(asked(device(`GID_other@@@made-up-${i}`))).toBe(false);
    }
  });
});
