/** Unit, behaviour and snapshot tests. ts-jest transpiles file by file (isolatedModules in tsconfig); `npm run typecheck` type-checks. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.cache/', '/test/cluster/'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
};
