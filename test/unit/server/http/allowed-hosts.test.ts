import { hostAllowed } from '../../../../src/server/http/allowed-hosts';

describe('hostAllowed (ALLOWED_HOSTS)', () => {
  const loopback = hostAllowed(['localhost', '127.0.0.1', '[::1]']);

  it('compares the Host header\'s name, port aside and in any case, with the allowed names', () => {
    for (const host of ['localhost', 'localhost:4000', 'LocalHost:4000', '127.0.0.1:80', '[::1]:4000', '[::1]']) {
      expect(loopback({ host })).toBe(true);
    }
  });

  it('refuses a rebinding page\'s name, a name that only starts like an allowed one, and a request with no Host', () => {
    for (const host of ['evil.example:4000', 'localhost.evil.example', '127.0.0.1.nip.io:4000', '[::1', ':4000', '']) {
      expect(loopback({ host })).toBe(false);
    }
    expect(loopback({})).toBe(false);
  });

  it('allows any name when no list is configured', () => {
    expect(hostAllowed(undefined)({ host: 'evil.example' })).toBe(true);
  });
});
