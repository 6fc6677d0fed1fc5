/**
 * Issue #6 acceptance, part 1 continued: the musl fixtures whose full runs
 * take millions of steps (printf-float, qsort 5000, sysmisc's sched section,
 * sigchld-wait), in lockstep with the host CPU to their end. A file of their
 * own, so that node's test runner runs them beside lockstep-ci-fixtures.
 * LOCKSTEP_FULL=1 adds strings, threads and sysmisc in one run (see
 * test/helpers/lockstep-cases.ts).
 */
import { fullCases } from './helpers/lockstep-cases.js';
import { lockstepCaseTest } from './helpers/lockstep-case-test.js';

for (const c of fullCases()) lockstepCaseTest(c);
