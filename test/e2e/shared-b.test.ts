import { SECOND_LOCAL_MODE_SUITES, sharedLocalModeSuites, sharedSuiteNames } from '../support/shared-suites';

/**
 * The suites of test/e2e/shared/ that share the second local mode, beside the first
 * (test/e2e/shared.test.ts) in the other test lane. See test/support/shared-suites.ts.
 */
// A module renamed or removed must not drop out of the run in silence.
const missing = SECOND_LOCAL_MODE_SUITES.filter((name) => !sharedSuiteNames().includes(name));
if (missing.length > 0) throw new Error(`SECOND_LOCAL_MODE_SUITES names modules test/e2e/shared/ does not have: ${missing.join(', ')}`);
sharedLocalModeSuites(SECOND_LOCAL_MODE_SUITES);
