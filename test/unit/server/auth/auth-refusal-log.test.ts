import { UnauthenticatedError } from '../../../../src/server/auth/authenticator';
import { AuthRefusalLog } from '../../../../src/server/auth/auth-refusal-log';
import { capturedLogger } from '../../../support/captured-logs';

const refusals = (captured: string[]) => captured.map((line) => JSON.parse(line)).filter((entry) => /caller refused/.test(entry.msg));

describe('AuthRefusalLog', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it('writes the first refusal of a reason and address at once, then one line per interval with the count, whatever the rate', () => {
    const { logger, lines } = capturedLogger();
    const log = new AuthRefusalLog(logger, { intervalMs: 10_000 });
    const missing = new UnauthenticatedError('Missing credentials', 'missing');
    log.record(missing, '10.0.0.7', 'http');
    expect(refusals(lines)).toEqual([expect.objectContaining({ reason: 'missing', remoteAddress: '10.0.0.7', msg: 'caller refused: Missing credentials' })]);

    for (let i = 0; i < 1000; i++) log.record(missing, '10.0.0.7', 'http');
    expect(refusals(lines)).toHaveLength(1);
    jest.advanceTimersByTime(10_000);
    expect(refusals(lines)).toHaveLength(2);
    expect(refusals(lines)[1]).toMatchObject({ reason: 'missing', remoteAddress: '10.0.0.7', refused: 1000 });
    log.close();
  });

  it('keeps reasons and transports apart', () => {
    const { logger, lines } = capturedLogger();
    const log = new AuthRefusalLog(logger, { intervalMs: 10_000 });
    log.record(new UnauthenticatedError('Missing credentials', 'missing'), '10.0.0.7', 'http');
    log.record(new UnauthenticatedError('Invalid token: it has expired', 'ERR_JWT_EXPIRED'), '10.0.0.7', 'http');
    log.record(new UnauthenticatedError('Missing credentials', 'missing'), '10.0.0.7', 'websocket');
    expect(refusals(lines).map((entry) => [entry.reason, entry.remoteAddress, entry.msg])).toEqual([
      ['missing', '10.0.0.7', 'caller refused: Missing credentials'],
      ['ERR_JWT_EXPIRED', '10.0.0.7', 'caller refused: Invalid token: it has expired'],
      ['missing', '10.0.0.7', 'WebSocket caller refused: Missing credentials'],
    ]);
    log.close();
  });

  it('writes one line per reason per interval from 1,000 addresses, not one per address, with the count and the last address', () => {
    const { logger, lines } = capturedLogger();
    const log = new AuthRefusalLog(logger, { intervalMs: 10_000 });
    const wrong = new UnauthenticatedError('Unknown API key', 'unknown-key');
    for (let i = 0; i < 1000; i++) log.record(wrong, `10.0.${i >> 8}.${i & 255}`, 'http');
    expect(refusals(lines)).toHaveLength(1);
    jest.advanceTimersByTime(10_000);
    expect(refusals(lines)).toHaveLength(2);
    expect(refusals(lines)[1]).toMatchObject({ reason: 'unknown-key', refused: 999, remoteAddress: '10.0.3.231' });
    log.close();
  });
});
