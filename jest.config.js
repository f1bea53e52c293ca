/** One project's settings, shared by both. */
const common = {
  testEnvironment: 'node',
  // middy ships ESM only; jest runs CommonJS, so swc converts it like our own sources.
  transform: { '^.+\\.(ts|js)$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
};

/**
 * `npm test` runs two projects in one jest run: the pure unit tests in parallel workers, then
 * everything that starts dynalite, podman or the local mode one file at a time (see
 * test/support/serial-runner.js). `jest test/unit/x.test.ts` and `--selectProjects` still work.
 */
/** @type {import('jest').Config} */
module.exports = {
  maxWorkers: 2,
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'serial',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['<rootDir>/test/unit/'],
      runner: '<rootDir>/test/support/serial-runner.js',
    },
  ],
};
