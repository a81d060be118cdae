/** Unit, behaviour and snapshot tests. ts-jest transpiles file by file (isolatedModules in tsconfig); `npm run typecheck` type-checks. */
module.exports = {
  testEnvironment: 'node',
  // Jest's default is one worker fewer than the cores: one worker on a 2-core machine. Several suites
  // wait on child processes (the synth, kubectl, git), so two workers keep both cores busy.
  maxWorkers: 2,
  roots: ['<rootDir>'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.cache/', '/test/cluster/'],
  // One temporary folder per run, removed at its end (test/jest/temp-folder-setup.js).
  globalSetup: '<rootDir>/test/jest/temp-folder-setup.js',
  globalTeardown: '<rootDir>/test/jest/temp-folder-teardown.js',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
};
