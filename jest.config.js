/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // middy ships ESM only; jest runs CommonJS, so swc converts it like our own sources.
  transform: { '^.+\\.(ts|js)$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 60_000,
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
};
