import { ForbiddenError, PresenceErrorCode, RateLimitedError, UpstreamUnavailableError } from '../../../src/presence/errors';

describe('presence errors', () => {
  it('carry their code, name and message but no stack frames: they are answers about devices, not bugs', () => {
    const error = new RateLimitedError('over the share', 120);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: PresenceErrorCode.RateLimited, name: 'RateLimitedError', message: 'over the share', retryAfterMs: 120 });
    expect(error.stack).toBe('RateLimitedError: over the share');
    expect(new UpstreamUnavailableError('down', { code: 'network' }).stack).not.toMatch(/\n\s+at /);
  });

  it('hold their stack as a plain value, so reading it (graphql-js does, per failed field) formats nothing', () => {
    const error = new RateLimitedError('over the share', 120);
    expect(Object.getOwnPropertyDescriptor(error, 'stack')).toMatchObject({ value: 'RateLimitedError: over the share', writable: true });
  });

  it('leave the stack trace limit as they found it, so other errors keep their stacks', () => {
    const before = Error.stackTraceLimit;
    new ForbiddenError('outside the scope');
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('a bug').stack).toMatch(/\n\s+at /);
  });
});
