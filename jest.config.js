/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['reflect-metadata'],
  // No test reaches the ECS metadata address or reads this machine's Alibaba Cloud profiles.
  globalSetup: '<rootDir>/test/support/credential-isolation.global.ts',
  // Type checking runs once in `npm run typecheck`; ts-jest still compiles with decorator metadata.
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }],
    // jose 6 is ESM only. Node 20.19+ loads it through require(esm), but Jest's module runtime cannot:
    // compile its JavaScript to CommonJS for the tests.
    '^.+/node_modules/jose/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true, module: 'commonjs', target: 'ES2022' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  testTimeout: 30000,
};
