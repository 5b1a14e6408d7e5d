import { loadConfig } from '../../../src/config';
import { createPresenceDispatcher } from '../../../src/presence/dispatcher-from-config';
import { FakeSessionApi, RecordingObserver, clientIds, keys } from './fake-session-api';

describe('createPresenceDispatcher', () => {
  it('builds a working dispatcher from the default configuration', async () => {
    const api = new FakeSessionApi();
    const observer = new RecordingObserver();
    const dispatcher = createPresenceDispatcher(loadConfig({}).presence, { api, observer });
    const results = await dispatcher.lookup(keys(25));
    expect(api.calls).toEqual([clientIds(10), clientIds(10, 10), clientIds(5, 20)]);
    expect(results.every((result) => !(result instanceof Error))).toBe(true);
    expect(observer.answered).toEqual({ upstream: 25 });
    dispatcher.close();
  });
});
