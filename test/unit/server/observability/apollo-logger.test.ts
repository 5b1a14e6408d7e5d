import { apolloLogger } from '../../../../src/server/observability/apollo-logger';
import { capturedLogger } from '../../../support/captured-logs';
import { createLogger } from '../../../../src/common/logger';
import { Writable } from 'node:stream';

describe("Apollo Server's logger", () => {
  it('writes Apollo info lines (what we configured on purpose) at debug, warnings and errors at their level, all ours', () => {
    const { logger, lines } = capturedLogger();
    const apollo = apolloLogger(logger);
    apollo.info('Enabling inline tracing for this subgraph. To disable, use ApolloServerPluginInlineTraceDisabled.');
    apollo.warn('A GraphQL operation was received during server shutdown.');
    apollo.error(new Error('startupDidFail hook threw'));
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed).toEqual([
      expect.objectContaining({ level: 20, component: 'apollo', service: 'presence-graph', msg: expect.stringContaining('Enabling inline tracing') }),
      expect.objectContaining({ level: 40, component: 'apollo', msg: 'A GraphQL operation was received during server shutdown.' }),
      expect.objectContaining({ level: 50, component: 'apollo', msg: 'startupDidFail hook threw', err: expect.objectContaining({ message: 'startupDidFail hook threw' }) }),
    ]);
  });

  it('says nothing at the default level (info) about what Apollo enables at every start', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _encoding, done) => done(void lines.push(String(chunk))) });
    apolloLogger(createLogger('info', sink)).info('Enabling inline tracing for this subgraph.');
    expect(lines).toEqual([]);
  });
});
