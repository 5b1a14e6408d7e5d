import { RefusalLog } from '../../../../src/server/observability/refusal-log';
import { capturedLogger } from '../../../support/captured-logs';

const lines = (captured: string[]) => captured.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'lookups refused for the caller');

describe('RefusalLog', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it("writes a caller's first refusal at once, then one line per interval with everything counted since", () => {
    const { logger, lines: captured } = capturedLogger();
    const log = new RefusalLog(logger, { intervalMs: 10_000 });
    log.record('greedy', { forbidden: 0, rateLimited: 7 }, 'Devices');
    expect(lines(captured)).toEqual([expect.objectContaining({ caller: 'greedy', rateLimited: 7, forbidden: 0, requests: 1, operationName: 'Devices' })]);

    for (let i = 0; i < 100; i++) log.record('greedy', { forbidden: 1, rateLimited: 10 }, 'Devices');
    expect(lines(captured)).toHaveLength(1);

    jest.advanceTimersByTime(10_000);
    expect(lines(captured)).toHaveLength(2);
    expect(lines(captured)[1]).toMatchObject({ caller: 'greedy', forbidden: 100, rateLimited: 1000, requests: 100 });
    log.close();
  });

  it('counts each caller apart, and writes at once when a caller comes back after its interval', () => {
    const { logger, lines: captured } = capturedLogger();
    const log = new RefusalLog(logger, { intervalMs: 10_000 });
    log.record('a', { forbidden: 1, rateLimited: 0 }, undefined);
    log.record('b', { forbidden: 0, rateLimited: 2 }, undefined);
    log.record('a', { forbidden: 1, rateLimited: 0 }, undefined);
    expect(lines(captured).map((entry) => entry.caller)).toEqual(['a', 'b']);
    jest.setSystemTime(10_000);
    log.record('a', { forbidden: 3, rateLimited: 0 }, undefined);
    // The count held back (1) and this one (3), written together, before the timer got to it.
    expect(lines(captured)[2]).toMatchObject({ caller: 'a', forbidden: 4, requests: 2 });
    log.close();
  });

  it('writes what it holds on close and keeps no timer running', () => {
    const { logger, lines: captured } = capturedLogger();
    const log = new RefusalLog(logger);
    log.record('greedy', { forbidden: 0, rateLimited: 1 }, undefined);
    log.record('greedy', { forbidden: 0, rateLimited: 5 }, undefined);
    log.close();
    expect(lines(captured).map((entry) => entry.rateLimited)).toEqual([1, 5]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('holds at most maxCallers callers: past it, writes out and forgets what it holds', () => {
    const { logger, lines: captured } = capturedLogger();
    const log = new RefusalLog(logger, { maxCallers: 2 });
    log.record('a', { forbidden: 0, rateLimited: 1 }, undefined);
    log.record('a', { forbidden: 0, rateLimited: 2 }, undefined);
    log.record('b', { forbidden: 0, rateLimited: 1 }, undefined);
    log.record('c', { forbidden: 0, rateLimited: 1 }, undefined);
    expect(lines(captured).map((entry) => `${entry.caller}:${entry.rateLimited}`)).toEqual(['a:1', 'b:1', 'a:2', 'c:1']);
    log.close();
  });
});
