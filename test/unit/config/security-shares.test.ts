import { loadConfig } from '../../../src/config';
import { makeApiKey } from '../../support/credentials';

describe('loadConfig: per-caller shares, document work and traces', () => {
  const router = makeApiKey('router', { instances: ['*'], groups: ['*'] });
  const withKeys = { AUTH_MODE: 'apikey', API_KEYS: JSON.stringify([router.entry]) };

  it('defaults to 50 operations per second per caller, 250 fields per document, 1,000 watched devices per caller and no inline traces', () => {
    const { security } = loadConfig({});
    expect(security.callerOperationsPerSecond).toBe(50);
    expect(security.limits.maxFields).toBe(250);
    expect(security.limits.maxWatchedDevicesPerCaller).toBe(1000);
    expect(security.inlineTraceCallers).toEqual([]);
  });

  it('reads each setting, 0 turning the operations share off, and refuses values outside their ranges', () => {
    const { security } = loadConfig({ CALLER_OPERATIONS_PER_SECOND: '0', MAX_QUERY_FIELDS: '500', MAX_WATCHED_DEVICES_PER_CALLER: '20' });
    expect(security.callerOperationsPerSecond).toBe(0);
    expect(security.limits).toMatchObject({ maxFields: 500, maxWatchedDevicesPerCaller: 20 });
    expect(() => loadConfig({ CALLER_OPERATIONS_PER_SECOND: '-1' })).toThrow(/CALLER_OPERATIONS_PER_SECOND must be a whole number from 0 to 1000000; got "-1"/);
    expect(() => loadConfig({ MAX_QUERY_FIELDS: '5' })).toThrow(/MAX_QUERY_FIELDS must be a whole number from 10 to 100000; got "5"/);
    expect(() => loadConfig({ MAX_WATCHED_DEVICES_PER_CALLER: '0' })).toThrow(/MAX_WATCHED_DEVICES_PER_CALLER must be a whole number from 1/);
  });

  it('gives inline traces only to the callers INLINE_TRACE_CALLERS names', () => {
    expect(loadConfig({ ...withKeys, INLINE_TRACE_CALLERS: ' router, ops ,' }).security.inlineTraceCallers).toEqual(['router', 'ops']);
  });

  it('refuses INLINE_TRACE_CALLERS without authentication, where no caller has a name of its own', () => {
    expect(() => loadConfig({ INLINE_TRACE_CALLERS: 'router' })).toThrow(/INLINE_TRACE_CALLERS names callers, which AUTH_MODE=none has none of/);
  });
});
