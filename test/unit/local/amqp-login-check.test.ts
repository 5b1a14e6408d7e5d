import { createHmac } from 'node:crypto';
import { checkAmqpLogin, checkAmqpUsername, LoginCheckGate, type AmqpLoginKeys } from '../../../src/local/amqp-login-check';

const KEY = { instanceId: 'mqtt-cn-local0001', accessKeyId: 'LTAI5tLocalKey', accessKeySecret: 'local-secret-0123456789' };
const NOW = 1_700_000_000_000;

/** The SDK's login, built here from its sources (UserUtils, Tools.macSignature), not from our signer. */
const username = (...fields: string[]): string => Buffer.from(fields.join(':')).toString('base64');
const signed = (ts: number, secret = KEY.accessKeySecret) => ({
  username: username('0', KEY.instanceId, KEY.accessKeyId),
  password: createHmac('sha1', secret).update(String(ts)).digest('base64'),
});

describe('checkAmqpLogin', () => {
  describe('accepts what the cloud accepts', () => {
    it('accepts a login signed just now and says which ts it signed', async () => {
      await expect(checkAmqpLogin(signed(NOW - 3), KEY, NOW)).resolves.toEqual({ ok: true, signedAtMs: NOW - 3, accessKeyId: KEY.accessKeyId });
    });

    it('accepts a ts up to 60 s old and up to 5 s ahead of our clock, and nothing beyond', async () => {
      await expect(checkAmqpLogin(signed(NOW - 60_000), KEY, NOW)).resolves.toEqual({ ok: true, signedAtMs: NOW - 60_000, accessKeyId: KEY.accessKeyId });
      await expect(checkAmqpLogin(signed(NOW + 5_000), KEY, NOW)).resolves.toEqual({ ok: true, signedAtMs: NOW + 5_000, accessKeyId: KEY.accessKeyId });
      await expect(checkAmqpLogin(signed(NOW - 60_001), KEY, NOW)).resolves.toEqual({ ok: false, reason: 'bad-signature' });
      await expect(checkAmqpLogin(signed(NOW + 5_001), KEY, NOW)).resolves.toEqual({ ok: false, reason: 'bad-signature' });
    });
  });

  describe('refuses what the cloud refuses, saying why', () => {
    it('refuses a password signed with another secret', async () => {
      await expect(checkAmqpLogin(signed(NOW, 'wrong-secret'), KEY, NOW)).resolves.toEqual({ ok: false, reason: 'bad-signature' });
    });

    it('refuses another instance or another AccessKey before computing any HMAC', async () => {
      const { password } = signed(NOW);
      await expect(checkAmqpLogin({ username: username('0', 'mqtt-cn-other', KEY.accessKeyId), password }, KEY, NOW)).resolves.toEqual({ ok: false, reason: 'other-instance' });
      await expect(checkAmqpLogin({ username: username('0', KEY.instanceId, 'LTAIother'), password }, KEY, NOW)).resolves.toEqual({ ok: false, reason: 'unknown-access-key' });
    });

    it('refuses usernames that are not the SDK format', async () => {
      const { password } = signed(NOW);
      for (const bad of ['', 'guest', '!!!not base64', username('1', KEY.instanceId, KEY.accessKeyId), username('0', KEY.instanceId), username('0', '', KEY.accessKeyId), username('0', KEY.instanceId, KEY.accessKeyId, 'a', 'b')]) {
        await expect(checkAmqpLogin({ username: bad, password }, KEY, NOW)).resolves.toEqual({ ok: false, reason: 'malformed-username' });
      }
    });

    it('refuses the STS form (UserUtils with a token): the local instance issues no tokens to check', async () => {
      const login = { ...signed(NOW), username: username('0', KEY.instanceId, KEY.accessKeyId, 'CAIS-token') };
      await expect(checkAmqpLogin(login, KEY, NOW)).resolves.toEqual({ ok: false, reason: 'security-token-unsupported' });
    });

    it('refuses a password that is not a base64 HMAC-SHA1 without searching', async () => {
      for (const password of ['', 'guest', Buffer.alloc(32).toString('base64'), signed(NOW).password.replace('=', '')]) {
        await expect(checkAmqpLogin({ ...signed(NOW), password }, KEY, NOW)).resolves.toEqual({ ok: false, reason: 'malformed-password' });
      }
    });
  });

  it('yields to the event loop while it searches the window for a wrong password', async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    try {
      await expect(checkAmqpLogin(signed(NOW, 'wrong-secret'), KEY, NOW)).resolves.toEqual({ ok: false, reason: 'bad-signature' });
    } finally {
      clearInterval(ticker);
    }
    expect(ticks).toBeGreaterThan(3);
  });
});

describe('checkAmqpLogin with temporary keys (the STS form: UserUtils with a security token)', () => {
  /** Two keys as an STS issuer hands them out: each valid with its own token until its Expiration. */
  const issued = new Map([
    ['STS.old', { secret: 'old-secret', token: 'CAIS-old', expiresAtMs: NOW - 1 }],
    ['STS.new', { secret: 'new-secret', token: 'CAIS-new', expiresAtMs: NOW + 60_000 }],
  ]);
  const keys: AmqpLoginKeys = {
    instanceId: KEY.instanceId,
    secretOf(accessKeyId, securityToken, nowMs) {
      const key = issued.get(accessKeyId);
      if (!key) return { ok: false, reason: 'unknown-access-key' };
      if (securityToken !== key.token) return { ok: false, reason: 'bad-security-token' };
      if (nowMs >= key.expiresAtMs) return { ok: false, reason: 'expired-security-token' };
      return { ok: true, accessKeySecret: key.secret };
    },
  };
  const stsLogin = (accessKeyId: string, token: string | undefined, secret: string, ts = NOW) => ({
    username: token === undefined ? username('0', KEY.instanceId, accessKeyId) : username('0', KEY.instanceId, accessKeyId, token),
    password: createHmac('sha1', secret).update(String(ts)).digest('base64'),
  });

  it('accepts `0:<instanceId>:<AccessKeyId>:<SecurityToken>` signed with the secret of a key that is current', async () => {
    await expect(checkAmqpLogin(stsLogin('STS.new', 'CAIS-new', 'new-secret', NOW - 7), keys, NOW)).resolves.toEqual({ ok: true, signedAtMs: NOW - 7, accessKeyId: 'STS.new' });
    expect(checkAmqpUsername(stsLogin('STS.new', 'CAIS-new', 'new-secret').username, keys, NOW)).toEqual({ ok: true });
  });

  it('refuses a key past its Expiration, even correctly signed with its own token', async () => {
    await expect(checkAmqpLogin(stsLogin('STS.old', 'CAIS-old', 'old-secret'), keys, NOW)).resolves.toEqual({ ok: false, reason: 'expired-security-token' });
    expect(checkAmqpUsername(stsLogin('STS.old', 'CAIS-old', 'old-secret').username, keys, NOW)).toEqual({ ok: false, reason: 'expired-security-token' });
  });

  it('refuses a current key with another key\'s token or none, and a correct username with another key\'s secret', async () => {
    await expect(checkAmqpLogin(stsLogin('STS.new', 'CAIS-old', 'new-secret'), keys, NOW)).resolves.toEqual({ ok: false, reason: 'bad-security-token' });
    await expect(checkAmqpLogin(stsLogin('STS.new', undefined, 'new-secret'), keys, NOW)).resolves.toEqual({ ok: false, reason: 'bad-security-token' });
    await expect(checkAmqpLogin(stsLogin('STS.new', 'CAIS-new', 'old-secret'), keys, NOW)).resolves.toEqual({ ok: false, reason: 'bad-signature' });
    await expect(checkAmqpLogin(stsLogin('STS.gone', 'CAIS-new', 'new-secret'), keys, NOW)).resolves.toEqual({ ok: false, reason: 'unknown-access-key' });
  });
});

describe('checkAmqpUsername (what RabbitMQ asks about vhosts and resources: the username alone)', () => {
  it('knows this instance and AccessKey, and nothing else', () => {
    expect(checkAmqpUsername(signed(NOW).username, KEY)).toEqual({ ok: true });
    expect(checkAmqpUsername('guest', KEY)).toEqual({ ok: false, reason: 'malformed-username' });
  });
});

describe('LoginCheckGate', () => {
  const deferred = () => {
    let resolve!: (value: string) => void;
    const promise = new Promise<string>((ok) => (resolve = ok));
    return { promise, resolve };
  };

  it('runs at most maxConcurrentChecks at once, in arrival order, and answers busy past maxQueuedChecks', async () => {
    const gate = new LoginCheckGate({ maxConcurrentChecks: 1, maxQueuedChecks: 1 });
    const started: string[] = [];
    const first = deferred();
    const second = deferred();
    const running = gate.run(() => (started.push('first'), first.promise));
    const queued = gate.run(() => (started.push('second'), second.promise));
    await expect(gate.run(async () => 'third')).resolves.toBe('busy');
    expect(started).toEqual(['first']);
    first.resolve('one');
    await expect(running).resolves.toBe('one');
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['first', 'second']);
    second.resolve('two');
    await expect(queued).resolves.toBe('two');
    await expect(gate.run(async () => 'again')).resolves.toBe('again');
  });

  it('frees the slot when a check throws', async () => {
    const gate = new LoginCheckGate({ maxConcurrentChecks: 1, maxQueuedChecks: 0 });
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(async () => 'ok')).resolves.toBe('ok');
  });

  it('refuses bad bounds at construction, naming the option', () => {
    expect(() => new LoginCheckGate({ maxConcurrentChecks: 0 })).toThrow('maxConcurrentChecks must be a whole number ≥ 1; got 0');
    expect(() => new LoginCheckGate({ maxQueuedChecks: -1 })).toThrow('maxQueuedChecks must be a whole number ≥ 0; got -1');
  });
});
