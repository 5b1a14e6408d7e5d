import { csrfPrevention } from '../../../../src/server/http/csrf';

describe('CSRF prevention by deployment (docs/federation-and-http.md, GET and CSRF prevention)', () => {
  it('is off on the anonymous local instance, which bills nobody: every client default works there', () => {
    expect(csrfPrevention({ source: 'local', authMode: 'none' })).toBe(false);
  });

  it('counts the credential headers, which force a preflight, beside Apollo\'s own, wherever callers authenticate', () => {
    for (const deployment of [
      { source: 'local', authMode: 'apikey' },
      { source: 'alibaba', authMode: 'jwt' },
    ] as const) {
      expect(csrfPrevention(deployment)).toEqual({ requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'authorization', 'x-api-key'] });
    }
  });

  it('stays on for anonymous callers of the billed source (ALLOW_ANONYMOUS=true): a plain GET there is any page\'s GET', () => {
    expect(csrfPrevention({ source: 'alibaba', authMode: 'none' })).toEqual({ requestHeaders: expect.arrayContaining(['apollo-require-preflight']) });
  });
});
