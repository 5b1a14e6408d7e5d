import { ConfigError, loadConfig } from '../../../src/config';

describe('loadConfig: subscriptions and web clients', () => {
  it('polls every second with a fifth of the batch budget, allows no other origin, and serves GraphiQL by default', () => {
    const config = loadConfig({});
    expect(config.subscriptions).toEqual({ pollIntervalMs: 1000, budgetShare: 0.2 });
    expect(config.web).toMatchObject({ corsOrigins: [], graphiqlEnabled: true });
  });

  it('turns GraphiQL off with NODE_ENV=production unless GRAPHIQL_ENABLED says otherwise', () => {
    const production = { NODE_ENV: 'production', AUTH_MODE: 'none', ALLOW_ANONYMOUS: 'true', LOCAL_IN_PRODUCTION: 'true', HOST: '127.0.0.1' };
    expect(loadConfig(production).web.graphiqlEnabled).toBe(false);
    expect(loadConfig({ ...production, GRAPHIQL_ENABLED: 'true' }).web.graphiqlEnabled).toBe(true);
    expect(loadConfig({ GRAPHIQL_ENABLED: 'false' }).web.graphiqlEnabled).toBe(false);
    expect(() => loadConfig({ GRAPHIQL_ENABLED: 'yes please' })).toThrow(new ConfigError('GRAPHIQL_ENABLED must be true or false; got "yes please"'));
  });

  it('reads CORS_ORIGINS as exact origins, normalised the way browsers send them', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://App.example.com, http://localhost:5173/' }).web.corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
  });

  it('rejects a wildcard, a path or a non-URL in CORS_ORIGINS, naming the entry', () => {
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS must list origins .* got "\*"/);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://app.example.com/dashboard' })).toThrow(/got "https:\/\/app.example.com\/dashboard"/);
  });

  it('rejects a budget share outside (0, 1] and a poll interval under 100 ms', () => {
    expect(loadConfig({ SUBSCRIPTION_BUDGET_SHARE: '1' }).subscriptions.budgetShare).toBe(1);
    expect(() => loadConfig({ SUBSCRIPTION_BUDGET_SHARE: '0' })).toThrow(/SUBSCRIPTION_BUDGET_SHARE must be a number more than 0 and at most 1/);
    expect(() => loadConfig({ SUBSCRIPTION_BUDGET_SHARE: '20%' })).toThrow(/SUBSCRIPTION_BUDGET_SHARE/);
    expect(() => loadConfig({ SUBSCRIPTION_POLL_INTERVAL_MS: '10' })).toThrow(/SUBSCRIPTION_POLL_INTERVAL_MS must be a whole number from 100/);
  });
});
