/** Tests spawn the built CLI (dist/) on temporary fixture trees; ts-jest compiles the tests. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Tests are transpiled, not type-checked, file by file (isolatedModules): `npm test` runs
  // `npm run typecheck` once for the whole project instead, which costs less than ts-jest's
  // per-file check of every test file with everything it imports.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  // Jest's default is one worker fewer than the CPUs: one on a 2-core machine. The tests mostly
  // wait for the processes they spawn, so two workers keep both cores busy.
  maxWorkers: 2,
  testTimeout: 60000,
};
