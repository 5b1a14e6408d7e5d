import { createHmac } from 'node:crypto';
import { amqpLogin } from '../../../../src/upstream/status-notices/amqp-login';

const INSTANCE = 'mqtt-cn-test0001';
const KEY = { accessKeyId: 'LTAI5tTestAccessKeyId', accessKeySecret: 'ZxyTestSecretKey0123456789abcd' };
const TS = 1_700_000_000_000;

describe('amqpLogin (AliwareMQ/mqtt-server-sdk: UserUtils, Tools.macSignature, AbstractChannel)', () => {
  it('signs the username base64("0:" + instanceId + ":" + accessKeyId) (UserUtils.getUserName)', () => {
    const { username } = amqpLogin(KEY, INSTANCE, TS);
    expect(username).toBe('MDptcXR0LWNuLXRlc3QwMDAxOkxUQUk1dFRlc3RBY2Nlc3NLZXlJZA==');
    expect(Buffer.from(username, 'base64').toString('utf8')).toBe(`0:${INSTANCE}:${KEY.accessKeyId}`);
  });

  it('makes the password base64(HMAC-SHA1(secret, ts as decimal epoch ms)) (Tools.macSignature)', () => {
    const { password } = amqpLogin(KEY, INSTANCE, TS);
    // Computed once outside Node (Python's hmac), and again here with node:crypto.
    expect(password).toBe('DIyxi/MX3ic5XoNsPTKJ0B2wjS8=');
    expect(password).toBe(createHmac('sha1', KEY.accessKeySecret).update('1700000000000').digest('base64'));
  });

  it('sends the signed ts as signKey, the client property of AbstractChannel.start', () => {
    expect(amqpLogin(KEY, INSTANCE, TS).signKey).toBe('1700000000000');
  });

  it('signs a different password for every ts, so each login is fresh', () => {
    const first = amqpLogin(KEY, INSTANCE, TS);
    const next = amqpLogin(KEY, INSTANCE, TS + 1);
    expect(next.username).toBe(first.username);
    expect(next.password).not.toBe(first.password);
    expect(next.signKey).toBe('1700000000001');
  });

  it('appends ":" + securityToken for STS credentials, the UNCONFIRMED form of UserUtils.getUserName(ak, instanceId, stsToken)', () => {
    const { username, password } = amqpLogin({ accessKeyId: 'STS.NTestId', accessKeySecret: KEY.accessKeySecret, securityToken: 'CAIS+token/abc==' }, INSTANCE, TS);
    expect(username).toBe('MDptcXR0LWNuLXRlc3QwMDAxOlNUUy5OVGVzdElkOkNBSVMrdG9rZW4vYWJjPT0=');
    expect(password).toBe('DIyxi/MX3ic5XoNsPTKJ0B2wjS8=');
  });

  it('treats an empty securityToken as none (AliyunCredentialsProvider: StringUtils.isNotEmpty)', () => {
    expect(amqpLogin({ ...KEY, securityToken: '' }, INSTANCE, TS).username).toBe(amqpLogin(KEY, INSTANCE, TS).username);
  });

  it('encodes UTF-8 before signing and encoding, as the SDK does (Charset UTF-8)', () => {
    const { password } = amqpLogin({ accessKeyId: 'id', accessKeySecret: 'clé-secrète' }, INSTANCE, TS);
    expect(password).toBe(createHmac('sha1', Buffer.from('clé-secrète', 'utf8')).update('1700000000000').digest('base64'));
  });

  it('refuses what would make a login the server misreads, naming the field and never the secret', () => {
    expect(() => amqpLogin(KEY, 'mqtt:cn', TS)).toThrow('must not contain ":"');
    expect(() => amqpLogin({ ...KEY, accessKeyId: '' }, INSTANCE, TS)).toThrow('accessKeyId must be a non-empty string');
    expect(() => amqpLogin({ ...KEY, accessKeySecret: '' }, INSTANCE, TS)).toThrow('accessKeySecret must be a non-empty string');
    expect(() => amqpLogin(KEY, INSTANCE, 1.5)).toThrow('nowMs must be whole epoch milliseconds');
    const refusal = (() => {
      try {
        return amqpLogin({ ...KEY, accessKeyId: 'LTAI:x' }, INSTANCE, TS);
      } catch (error) {
        return String(error);
      }
    })();
    expect(refusal).toContain('accessKeyId must not contain ":"');
    expect(refusal).not.toContain(KEY.accessKeySecret);
  });
});
