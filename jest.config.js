/** Jest: TypeScript through SWC; each test file gets its own database (see test/support/test-database.ts). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2023' } }] },
  // jose and the OpenAPI validator ship ESM only: let SWC turn them into CommonJS like our own code.
  transformIgnorePatterns: ['/node_modules/(?!(jose|@apidevtools|request-filtering-agent)/)'],
  // Picks (and, from the npm package, unpacks once) the Chromium the browser tests use.
  globalSetup: '<rootDir>/test/support/global-setup.js',
  setupFilesAfterEnv: ['<rootDir>/test/support/setup-network.ts'],
  // The reliability suite's figures ("crashes: 20, lost: 0, …") are printed after the run.
  reporters: ['default', '<rootDir>/test/reliability/support/summary-reporter.js'],
  // A guard against hangs, not a speed target (those live in `npm run bench`): a set-up hook that migrates an
  // in-memory PGlite and boots the app took over 30 s on a loaded two-core machine.
  testTimeout: 60000,
  maxWorkers: 2,
};
