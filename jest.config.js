/** Tests spawn the built CLI (dist/) on temporary fixture trees; ts-jest compiles the tests. */

/**
 * Suites about the Node build itself, not about the CLI: its code cache and bin/load-cli.cjs, how
 * Node ends a run, the npm package, the bench script, the Debian package build, the CLI under
 * other Node lines. With MDEVCTL_TEST_CLI=/path/to/executable (another CLI under test:
 * test/support/cli.ts) they are skipped, with one line saying so; they run in the Node build's pass.
 */
const NODE_BUILD_ONLY = ['code-cache', 'exit', 'package', 'bench', 'deb', 'node-versions'];
const testCli = process.env.MDEVCTL_TEST_CLI;
if (testCli && !process.env.JEST_WORKER_ID) {
  process.stderr.write(
    `SKIPPED ${NODE_BUILD_ONLY.map((n) => `${n}.test.ts`).join(', ')}: about the Node build, not the CLI under test (MDEVCTL_TEST_CLI=${testCli})\n`,
  );
}

// The CLI's own MDEVCTL_* variables exported by the developer's shell (the README's example
// exports MDEVCTL_SIMULATE) must not change what a test sees: they are removed here, before jest
// starts its workers, so no spawned CLI inherits them, whichever way a test spawns it
// (test/support/cli.ts's cliEnv does the same for the helpers). The test run's own variables
// (MDEVCTL_TEST_*, MDEVCTL_REF_*, MDEVCTL_DEB_*, MDEVCTL_KERNEL_*, MDEVCTL_BUILD_*,
// MDEVCTL_MESSAGES_*) stay.
for (const k of Object.keys(process.env)) {
  if (k.startsWith('MDEVCTL_') && !/^MDEVCTL_(TEST_|REF_|DEB_|KERNEL_|BUILD_|MESSAGES_)/.test(k)) delete process.env[k];
}

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...(testCli ? NODE_BUILD_ONLY.map((n) => `/test/${n}\\.test\\.ts$`) : [])],
  // Tests are transpiled, not type-checked, file by file (isolatedModules): `npm test` runs
  // `npm run typecheck` once for the whole project instead, which costs less than ts-jest's
  // per-file check of every test file with everything it imports.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  // Jest's default is one worker fewer than the CPUs: one on a 2-core machine. The tests mostly
  // wait for the processes they spawn, so two workers keep both cores busy.
  maxWorkers: 2,
  testTimeout: 60000,
};
