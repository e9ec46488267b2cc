/** Three projects, one `npm test`: pure unit tests, DynamoDB Local integration tests, CDK tests. */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] };
const moduleNameMapper = { '^dualread-definitions$': '<rootDir>/examples/users/migrations.ts' };
const common = {
  testEnvironment: 'node',
  transform,
  moduleNameMapper,
  setupFiles: ['<rootDir>/test/setup/env.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  reporters: ['default', '<rootDir>/test/setup/summary-reporter.js'],
  // Jest reads testTimeout from the top-level config only (the per-project values below are not applied):
  // integration tests drive DynamoDB Local and state machines; CDK tests bundle Lambdas with esbuild.
  testTimeout: 180000,
  // Two workers on the 2-core machine (Jest's default is cores - 1 = one): the long files are
  // rehearsals that mostly wait on paced writes and DynamoDB Local, so two overlap well.
  maxWorkers: 2,
  // The whole-migration walks first (test/setup/sequencer.js): on a fresh clone Jest has no durations.
  testSequencer: '<rootDir>/test/setup/sequencer.js',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      testTimeout: 120000,
    },
    { ...common, displayName: 'cdk', testMatch: ['<rootDir>/test/cdk/**/*.test.ts'], testTimeout: 180000 },
  ],
};
