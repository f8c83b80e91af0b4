/** Jest: TypeScript through SWC; each test file gets its own database (see test/support/test-database.ts). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2023' } }] },
  setupFilesAfterEnv: ['<rootDir>/test/support/setup-network.ts'],
  testTimeout: 30000,
  maxWorkers: 2,
};
