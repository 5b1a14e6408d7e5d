import { GraphQLError } from 'graphql';
import { InvalidInputError, UpstreamThrottledError, UpstreamUnavailableError } from '../../../../src/presence/errors';
import { RequestErrorLog } from '../../../../src/server/observability/error-logging.plugin';
import { UpstreamFailureLog } from '../../../../src/server/observability/upstream-failure-log';
import { capturedLogger, linesSaying } from '../../../support/captured-logs';

const throttled = (requestId: string) =>
  new UpstreamThrottledError(`BatchQuerySessionByClientIds was throttled (SystemOverFlow, RequestId ${requestId})`, 1000, { code: 'SystemOverFlow', requestId });
const parsed = (captured: string[]) => captured.map((line) => JSON.parse(line) as Record<string, unknown> & { msg: string; level: number });
/** An error at a field, as graphql-js reports a resolver's error. */
const atField = (error: Error, index = 0) => new GraphQLError(error.message, { originalError: error, path: ['devices', index, 'online'] });

describe('UpstreamFailureLog', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it('writes the first failure of a kind at once, with its RequestId, then one line per interval with the counts and the last RequestId', () => {
    const { logger, lines } = capturedLogger();
    const log = new UpstreamFailureLog(logger, { intervalMs: 10_000 });
    log.record(throttled('R-1'), 'Devices');
    expect(parsed(lines)).toEqual([
      expect.objectContaining({ level: 40, code: 'UPSTREAM_THROTTLED', upstream: { code: 'SystemOverFlow', requestId: 'R-1' }, operationName: 'Devices', failures: 1, requests: 1 }),
    ]);

    // One failed call reaches every request that waited on it: 20 failures, each seen by 5 requests.
    for (let call = 2; call <= 21; call++) {
      const error = throttled(`R-${call}`);
      for (let request = 0; request < 5; request++) log.record(error, 'Devices');
    }
    expect(lines).toHaveLength(1);

    jest.advanceTimersByTime(10_000);
    expect(parsed(lines)).toHaveLength(2);
    expect(parsed(lines)[1]).toMatchObject({ level: 40, code: 'UPSTREAM_THROTTLED', upstream: { requestId: 'R-21' }, failures: 20, requests: 100 });
    expect(parsed(lines)[1].msg).toContain('since the last line: 20 new, in 100 requests; the last: BatchQuerySessionByClientIds was throttled');
    log.close();
  });

  it('tells kinds apart by our code and the upstream code, and writes nothing for a quiet kind', () => {
    const { logger, lines } = capturedLogger();
    const log = new UpstreamFailureLog(logger);
    log.record(throttled('R-1'), undefined);
    log.record(new UpstreamUnavailableError('no answer from the upstream', { code: 'timeout' }), undefined);
    log.record(new UpstreamUnavailableError('the upstream refused the connection', { code: 'network' }), undefined);
    log.record(new UpstreamUnavailableError('no answer from the upstream', { code: 'timeout' }), undefined);
    expect(parsed(lines).map((line) => `${line.code}/${(line.upstream as { code: string }).code}`)).toEqual([
      'UPSTREAM_THROTTLED/SystemOverFlow',
      'UPSTREAM_UNAVAILABLE/timeout',
      'UPSTREAM_UNAVAILABLE/network',
    ]);
    jest.advanceTimersByTime(10_000);
    // Only the timeout kind had more; the others went quiet and are forgotten.
    expect(parsed(lines).slice(3)).toEqual([expect.objectContaining({ upstream: { code: 'timeout' }, failures: 1, requests: 1 })]);
    log.close();
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('RequestErrorLog', () => {
  it('summarises upstream failures over requests, logs every unexpected error, and leaves caller mistakes out', () => {
    const { logger, lines } = capturedLogger();
    const log = new RequestErrorLog(logger);
    const failure = throttled('R-1');
    // Ten IDs of one failed call, in each of 50 requests: one line.
    for (let request = 0; request < 50; request++) {
      log.record(Array.from({ length: 10 }, (_, index) => atField(failure, index)), 'Devices', 'anonymous');
    }
    log.record([atField(new InvalidInputError('Client ID "x" is malformed'))], 'Devices', 'anonymous');
    log.record([atField(new TypeError('a bug'))], 'Devices', 'anonymous');
    log.record([atField(new TypeError('a bug'))], 'Devices', 'anonymous');

    expect(linesSaying(lines, 'throttled')).toHaveLength(1);
    expect(linesSaying(lines, 'malformed')).toHaveLength(0);
    expect(linesSaying(lines, 'unexpected error')).toHaveLength(2);
    log.close();
    expect(linesSaying(lines, 'since the last line')).toEqual([expect.objectContaining({ failures: 0, requests: 49 })]);
  });
});
