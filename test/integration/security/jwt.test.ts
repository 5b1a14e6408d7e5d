import { LOCAL_DEFAULTS } from '../../../src/config';
import { makeIssuer, type TestIssuer } from '../../support/credentials';
import { errorsByPath, postGraphQL } from '../../support/graphql-client';
import { bearer } from '../../support/secured-graph';
import { startTestGraph, type TestGraph } from '../../support/test-graph';

/**
 * AUTH_MODE=jwt: a token must be signed by a key of the configured JWKS, for the configured issuer
 * and audience, and unexpired. Refused tokens get HTTP 401 UNAUTHENTICATED and no upstream call.
 */
describe('JWT authentication', () => {
  let issuer: TestIssuer;
  let graph: TestGraph;
  const query = '{ devices(clientIds: ["GID_fleet-eu@@@truck-1", "GID_billing@@@meter-1"]) { online } }';
  const scopeClaims = { instances: [LOCAL_DEFAULTS.instanceId], mqtt_groups: ['GID_fleet-*'] };

  beforeAll(async () => {
    issuer = await makeIssuer();
    graph = await startTestGraph({
      AUTH_MODE: 'jwt',
      JWT_JWKS_FILE: issuer.jwksFile,
      JWT_ISSUER: issuer.issuer,
      JWT_AUDIENCE: issuer.audience,
      JWT_GROUPS_CLAIM: 'mqtt_groups',
    });
  });
  afterAll(async () => {
    await graph?.stop();
    issuer?.dispose();
  });
  beforeEach(() => graph.local!.emulator.resetCalls());

  const refusal = (message: string) => ({ status: 401, errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] });

  it('refuses a token with a bad signature', async () => {
    const response = await postGraphQL(graph.url, query, undefined, bearer(await issuer.signWithForeignKey(scopeClaims)));
    expect(response).toEqual(refusal('Invalid token'));
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('refuses a token minted for another audience', async () => {
    const response = await postGraphQL(graph.url, query, undefined, bearer(await issuer.sign(scopeClaims, { audience: 'billing-api' })));
    expect(response).toEqual(refusal('Invalid token'));
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('refuses an expired token', async () => {
    const expired = await issuer.sign(scopeClaims, { expiresAt: Math.floor(Date.now() / 1000) - 3600 });
    const response = await postGraphQL(graph.url, query, undefined, bearer(expired));
    expect(response).toEqual(refusal('Invalid token: it has expired'));
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('refuses a well-signed token without an expiry: it would never lapse', async () => {
    const forever = await issuer.sign(scopeClaims, { expiresAt: null });
    const response = await postGraphQL(graph.url, query, undefined, bearer(forever));
    expect(response).toEqual(refusal('Invalid token: it has no expiry (exp)'));
    const garbled = await issuer.sign({ ...scopeClaims, exp: 'soon' as unknown as number }, { expiresAt: null });
    expect(await postGraphQL(graph.url, query, undefined, bearer(garbled))).toEqual(refusal('Invalid token'));
    expect(graph.local!.emulator.calls).toEqual([]);
  });

  it('answers a valid token within the scope of its claims, and forbids the rest', async () => {
    const response = await postGraphQL<{ devices: Array<{ online: boolean | null }> }>(graph.url, query, undefined, bearer(await issuer.sign(scopeClaims)));

    expect(response.status).toBe(200);
    expect(response.data).toEqual({ devices: [{ online: false }, { online: null }] });
    expect(errorsByPath(response.errors).get('devices.1.online')?.extensions?.code).toBe('FORBIDDEN');
    expect(graph.local!.emulator.calls.flatMap((call) => call.clientIds)).toEqual(['GID_fleet-eu@@@truck-1']);
  });
});
