/**
 * Issue #6 acceptance, part 1 continued: the musl fixtures whose full runs
 * take millions of steps, in lockstep with the host CPU to their end: here
 * printf-float and threads (20000 rounds per worker); qsort 5000,
 * sigchld-wait and sysmisc in lockstep-ci-full-b, strings in -c. Files of
 * their own, so that node's test runner runs them beside each other and the
 * other test files (see test/helpers/lockstep-cases.ts).
 */
import { fullCases } from './helpers/lockstep-cases.js';
import { lockstepCaseTest } from './helpers/lockstep-case-test.js';

for (const c of fullCases('a')) lockstepCaseTest(c);
