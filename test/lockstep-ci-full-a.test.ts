/**
 * Issue #6 acceptance, part 1 continued: the musl fixtures whose full runs
 * take millions of steps, in lockstep with the host CPU to their end: here
 * printf-float and sysmisc's sched section (qsort 5000 and sigchld-wait in
 * lockstep-ci-full-b). Files of their own, so that node's test runner runs
 * them beside each other and lockstep-ci-fixtures. LOCKSTEP_FULL=1 adds the
 * full strings and threads runs (see test/helpers/lockstep-cases.ts).
 */
import { fullCases } from './helpers/lockstep-cases.js';
import { lockstepCaseTest } from './helpers/lockstep-case-test.js';

for (const c of fullCases('a')) lockstepCaseTest(c);
