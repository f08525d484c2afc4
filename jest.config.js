/** Tests spawn the built CLI (dist/) on temporary fixture trees; ts-jest compiles the tests. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: { warnOnly: false }, tsconfig: 'tsconfig.json' }] },
  testTimeout: 60000,
};
