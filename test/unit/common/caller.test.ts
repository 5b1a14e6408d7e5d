import { matchesPattern } from '../../../src/common/caller';

describe('scope patterns', () => {
  it('match an exact name, a prefix ending in *, or anything for * alone', () => {
    expect(matchesPattern('GID_fleet', 'GID_fleet')).toBe(true);
    expect(matchesPattern('GID_fleet', 'GID_fleet2')).toBe(false);
    expect(matchesPattern('GID_fleet-*', 'GID_fleet-eu')).toBe(true);
    expect(matchesPattern('GID_fleet-*', 'GID_fleet')).toBe(false);
    expect(matchesPattern('*', 'anything')).toBe(true);
  });
});
