import { SECOND_LOCAL_MODE_SUITES, sharedLocalModeSuites, sharedSuiteNames } from '../support/shared-suites';

/**
 * The suites of test/e2e/shared/ that share the first local mode: every one not in
 * SECOND_LOCAL_MODE_SUITES (test/e2e/shared-b.test.ts runs those). See test/support/shared-suites.ts.
 *
 * One suite alone: `npx jest test/e2e/shared.test.ts -t 'Task isolation'`.
 */
sharedLocalModeSuites(sharedSuiteNames().filter((name) => !SECOND_LOCAL_MODE_SUITES.includes(name)));
