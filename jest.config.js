/** Tests spawn the built CLI (dist/) on temporary fixture trees; ts-jest compiles the tests. */

/**
 * Suites about the Node build itself, not about the CLI: its code cache and bin/load-cli.cjs, how
 * Node ends a run, the npm package, the bench script, the Debian package build. With
 * MDEVCTL_TEST_CLI=/path/to/executable (another CLI under test: test/support/cli.ts) they are
 * skipped, with one line saying so; they run in the Node build's pass.
 */
const NODE_BUILD_ONLY = ['code-cache', 'exit', 'package', 'bench', 'deb'];
const testCli = process.env.MDEVCTL_TEST_CLI;
if (testCli && !process.env.JEST_WORKER_ID) {
  process.stderr.write(`SKIPPED ${NODE_BUILD_ONLY.map((n) => `${n}.test.ts`).join(', ')}: about the Node build, not the CLI under test (MDEVCTL_TEST_CLI=${testCli})\n`);
}

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...(testCli ? NODE_BUILD_ONLY.map((n) => `/test/${n}\\.test\\.ts$`) : [])],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: { warnOnly: false }, tsconfig: 'tsconfig.json' }] },
  testTimeout: 60000,
};
