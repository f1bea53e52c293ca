import { LOCAL_PACKAGES, type LocalPackage, ensureLocalPackages } from '../../local/packages';

/**
 * Everything `npm test` needs from apt: the local mode's own packages and what only the tests use.
 * The test run installs them itself before its first test (test/support/global-setup.js runs this
 * file), as `npm start` installs the local mode's, so `npm ci && npm test` passes on a fresh
 * machine; `.ci/run` installs them through this file too. Whatever a new test needs goes here.
 */
export const TEST_PACKAGES: readonly LocalPackage[] = [
  ...LOCAL_PACKAGES,
  { name: 'awscli', why: 'the AWS CLI v2 the end-to-end tests drive, and the service models responses are checked against', probe: { file: '/usr/bin/aws' } },
  { name: 'openssl', why: "the test registry's certificates", probe: { command: 'openssl' } },
  { name: 'docker-registry', why: 'the registry the image tests pull from', probe: { command: 'docker-registry' } },
  { name: 'apache2-utils', why: "htpasswd, for the test registry's bcrypt logins", probe: { command: 'htpasswd' } },
  { name: 'shellcheck', why: "checks the hosts' user data and the LocalStack init scripts", probe: { command: 'shellcheck' } },
  { name: 'iproute2', why: 'the network namespace the metadata-block test makes', probe: { command: 'ip' } },
  { name: 'chromium', why: 'renders the HTML cost report in its test', probe: { command: 'chromium' } },
];

if (require.main === module) {
  ensureLocalPackages((line) => console.error(`berth tests: ${line}`), undefined, TEST_PACKAGES, 'the test suite').catch((e: Error) => {
    console.error(`berth tests: ${e.message}`);
    process.exit(1);
  });
}
