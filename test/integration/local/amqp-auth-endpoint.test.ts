import { createHmac } from 'node:crypto';
import { AuthPath, startAmqpAuthEndpoint, type AmqpAuthEndpoint } from '../../../src/local/amqp-auth-endpoint';

const KEY = { instanceId: 'mqtt-cn-local0001', accessKeyId: 'LTAI5tLocalKey', accessKeySecret: 'local-secret-0123456789' };
const signedUser = Buffer.from(`0:${KEY.instanceId}:${KEY.accessKeyId}`).toString('base64');
const passwordAt = (ts: number, secret = KEY.accessKeySecret) => createHmac('sha1', secret).update(String(ts)).digest('base64');

/** As rabbitmq_auth_backend_http asks with http_method = post: a form body. */
async function post(endpoint: AmqpAuthEndpoint, path: string, params: Record<string, string>): Promise<{ status: number; text: string }> {
  const response = await fetch(`${endpoint.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, text: await response.text() };
}

/** As it asks by default (http_method = get): a query string. */
async function get(endpoint: AmqpAuthEndpoint, path: string, params: Record<string, string>): Promise<{ status: number; text: string }> {
  const response = await fetch(`${endpoint.url}${path}?${new URLSearchParams(params).toString()}`);
  return { status: response.status, text: await response.text() };
}

describe('the AMQP auth endpoint (rabbitmq_auth_backend_http protocol)', () => {
  let endpoint: AmqpAuthEndpoint;
  beforeAll(async () => {
    endpoint = await startAmqpAuthEndpoint({ ...KEY, port: 0 });
  });
  afterAll(() => endpoint.close());

  it('answers /auth/user allow for a signed login, by POST form and by GET query, and records the ts it signed', async () => {
    const ts = Date.now();
    const login = { username: signedUser, password: passwordAt(ts) };
    await expect(post(endpoint, '/user', login)).resolves.toEqual({ status: 200, text: 'allow' });
    await expect(get(endpoint, '/user', login)).resolves.toEqual({ status: 200, text: 'allow' });
    expect(endpoint.decisions.slice(-2).map(({ allowed, signedAtMs }) => [allowed, signedAtMs])).toEqual([
      [true, ts],
      [true, ts],
    ]);
  });

  it('answers /auth/user deny, still with 200, for a wrong secret, an unsigned user or no password', async () => {
    await expect(post(endpoint, '/user', { username: signedUser, password: passwordAt(Date.now(), 'wrong') })).resolves.toEqual({ status: 200, text: 'deny' });
    await expect(post(endpoint, '/user', { username: 'guest', password: 'guest' })).resolves.toEqual({ status: 200, text: 'deny' });
    await expect(post(endpoint, '/user', { username: signedUser })).resolves.toEqual({ status: 200, text: 'deny' });
    expect(endpoint.decisions.slice(-3).map(({ path, allowed, reason }) => [path, allowed, reason])).toEqual([
      [AuthPath.User, false, 'bad-signature'],
      [AuthPath.User, false, 'malformed-username'],
      [AuthPath.User, false, 'malformed-password'],
    ]);
  });

  it('lets a signed user into vhost MQTT only', async () => {
    await expect(post(endpoint, '/vhost', { username: signedUser, vhost: 'MQTT', ip: '127.0.0.1' })).resolves.toEqual({ status: 200, text: 'allow' });
    await expect(post(endpoint, '/vhost', { username: signedUser, vhost: '/', ip: '127.0.0.1' })).resolves.toEqual({ status: 200, text: 'deny' });
    await expect(post(endpoint, '/vhost', { username: 'someone', vhost: 'MQTT', ip: '127.0.0.1' })).resolves.toEqual({ status: 200, text: 'deny' });
  });

  it('allows resources and topics on vhost MQTT to a signed user, and nothing elsewhere', async () => {
    const resource = { username: signedUser, vhost: 'MQTT', resource: 'queue', name: 'STATUS', permission: 'read' };
    await expect(post(endpoint, '/resource', resource)).resolves.toEqual({ status: 200, text: 'allow' });
    await expect(post(endpoint, '/resource', { ...resource, vhost: '/' })).resolves.toEqual({ status: 200, text: 'deny' });
    const topic = { username: signedUser, vhost: 'MQTT', resource: 'topic', name: 'amq.topic', permission: 'write', routing_key: 'a.b' };
    await expect(post(endpoint, '/topic', topic)).resolves.toEqual({ status: 200, text: 'allow' });
    await expect(post(endpoint, '/topic', { ...topic, username: Buffer.from('0:mqtt-cn-other:LTAIx').toString('base64') })).resolves.toEqual({ status: 200, text: 'deny' });
  });

  it('answers 404 off its four paths, 415 to a body that is not a form, 405 to other methods', async () => {
    await expect(post(endpoint, '/other', {})).resolves.toEqual({ status: 404, text: 'not found' });
    const json = await fetch(`${endpoint.url}/user`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    expect((await fetch(`${endpoint.url}/user`, { method: 'PUT' })).status).toBe(405);
  });

  it('records only the path, the answer, the reason and the time (and a login\'s ts and AccessKey ID): never a password or a username', () => {
    expect(endpoint.decisions.length).toBeGreaterThan(0);
    for (const decision of endpoint.decisions) {
      expect(Object.keys(decision).sort()).toEqual(
        decision.signedAtMs === undefined ? ['allowed', 'atMs', 'path', 'reason'] : ['accessKeyId', 'allowed', 'atMs', 'path', 'reason', 'signedAtMs'],
      );
    }
  });
});
