import { routeConsoleToLogger } from '../../../src/common/console-lines';
import { redisConsoleWarning } from '../../../src/redis/redis-failure';
import { capturedLogger } from '../../support/captured-logs';

describe('console lines of libraries, routed into the log', () => {
  const saved = { ...console };
  afterEach(() => Object.assign(console, saved));

  it("writes ioredis' [WARN] lines as JSON lines in our words, other console lines as they are, marked from: console", () => {
    const { logger, lines } = capturedLogger();
    routeConsoleToLogger(logger, redisConsoleWarning);
    // What ioredis 5 prints when REDIS_URL carries a password Redis does not ask for (redis/event_handler.js).
    console.warn('[WARN] Redis server does not require a password, but a password was supplied.');
    console.error('[ioredis] Unhandled error event: %s', 'boom');
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed).toEqual([
      expect.objectContaining({ level: 40, msg: expect.stringMatching(/^REDIS_URL carries a password but Redis requires none/) }),
      expect.objectContaining({ level: 50, from: 'console', msg: '[ioredis] Unhandled error event: boom' }),
    ]);
  });
});
