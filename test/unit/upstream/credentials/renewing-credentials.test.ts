import { UpstreamAuthFailedError } from '../../../../src/presence/errors';
import type { CredentialFetcher, FetchedCredential } from '../../../../src/upstream/credentials/credential-sources';
import { RenewingCredentials } from '../../../../src/upstream/credentials/renewing-credentials';

/** A source whose answers the test scripts: a key per fetch, valid `lifeMs` from the (fake) now. */
function scriptedSource(lifeMs: number) {
  const state = { fetches: 0, down: false };
  const fetcher: CredentialFetcher = {
    source: 'uri',
    describe: 'credentials URI http://127.0.0.1:1',
    async fetch(): Promise<FetchedCredential> {
      state.fetches++;
      if (state.down) throw Object.assign(new Error('connect ECONNREFUSED http://127.0.0.1:1/?token=TOPSECRET'), { code: 'ECONNREFUSED' });
      const n = state.fetches;
      return { accessKeyId: `STS.key${n}`, accessKeySecret: `secret-${n}-TOPSECRET`, securityToken: `token-${n}`, expiresAtMs: Date.now() + lifeMs };
    },
  };
  return { fetcher, state };
}

describe('RenewingCredentials', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_700_000_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('hands out one key while it is fresh, and one fetch serves every caller that waits for it', async () => {
    const { fetcher, state } = scriptedSource(60_000);
    const credentials = new RenewingCredentials(fetcher);
    const keys = await Promise.all([credentials.get(), credentials.get(), credentials.get()]);
    expect(new Set(keys.map((key) => key.accessKeyId))).toEqual(new Set(['STS.key1']));
    jest.setSystemTime(Date.now() + 20_000);
    expect((await credentials.get()).securityToken).toBe('token-1');
    expect(state.fetches).toBe(1);
    credentials.close();
  });

  it('renews by its timer at half the life of a short-lived key, before it expires, and tells listeners', async () => {
    const { fetcher, state } = scriptedSource(6_000);
    const credentials = new RenewingCredentials(fetcher);
    const heard: string[] = [];
    credentials.onChange((key) => heard.push(key.securityToken!));
    await credentials.get();
    await jest.advanceTimersByTimeAsync(2_999);
    expect(state.fetches).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(state.fetches).toBe(2);
    expect(heard).toEqual(['token-2']);
    expect((await credentials.get()).securityToken).toBe('token-2');
    credentials.close();
  });

  it('goes on with the held key while the source is down and the key valid, then fails naming the source, never a secret', async () => {
    const { fetcher, state } = scriptedSource(8_000);
    const credentials = new RenewingCredentials(fetcher, { retryMinMs: 500, retryMaxMs: 2_000 });
    await credentials.get();
    state.down = true;
    await jest.advanceTimersByTimeAsync(4_000); // the renewal at half-life fails
    expect((await credentials.get()).securityToken).toBe('token-1');
    await jest.advanceTimersByTimeAsync(2_000); // 6 s: inside the last quarter of its life, no longer used
    const error = (await credentials.get().then(() => undefined, (e: unknown) => e)) as UpstreamAuthFailedError;
    expect(error).toBeInstanceOf(UpstreamAuthFailedError);
    expect(error.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(error.message).toMatch(/source uri \(credentials URI http:\/\/127\.0\.0\.1:1\): no answer \(ECONNREFUSED\)/);
    expect(`${error.message}${JSON.stringify(error)}`).not.toMatch(/TOPSECRET|secret-1/);
  });

  it('retries a failing source with capped backoff by itself, without callers, and recovers once it answers', async () => {
    const { fetcher, state } = scriptedSource(4_000);
    const credentials = new RenewingCredentials(fetcher, { retryMinMs: 500, retryMaxMs: 2_000 });
    await credentials.get();
    state.down = true;
    await jest.advanceTimersByTimeAsync(20_000);
    const whileDown = state.fetches;
    // 2 s at half-life, then 0.5, 1, 2, 2, 2 … s apart: about ten tries in 20 s, never a tight loop.
    expect(whileDown).toBeGreaterThanOrEqual(8);
    expect(whileDown).toBeLessThanOrEqual(14);
    await expect(credentials.get()).rejects.toThrow(UpstreamAuthFailedError);
    state.down = false;
    await jest.advanceTimersByTimeAsync(2_000);
    expect((await credentials.get()).accessKeyId).toMatch(/^STS\.key\d+$/);
    credentials.close();
  });

  it('refuses a key the source hands out already expired', async () => {
    const credentials = new RenewingCredentials({
      source: 'oidc',
      describe: 'role r through STS s',
      fetch: async () => ({ accessKeyId: 'STS.old', accessKeySecret: 's', securityToken: 't', expiresAtMs: Date.now() - 1_000 }),
    });
    await expect(credentials.get()).rejects.toThrow(/source oidc \(role r through STS s\): answered a credential that is expired or about to expire/);
  });

  it('refuses options without a unit-sized meaning, naming them', () => {
    const { fetcher } = scriptedSource(1_000);
    expect(() => new RenewingCredentials(fetcher, { retryMinMs: 0 })).toThrow(/retryMinMs must be a finite number ≥ 1/);
    expect(() => new RenewingCredentials(fetcher, { retryMinMs: 500, retryMaxMs: 100 })).toThrow(/retryMaxMs must be a finite number ≥ 500/);
  });
});
