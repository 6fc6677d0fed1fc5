/**
 * Issue #6 acceptance, part 1 continued: qsort 5000 and sigchld-wait in
 * full, in lockstep with the host CPU to their end (see lockstep-ci-full-a).
 * LOCKSTEP_FULL=1 adds sysmisc with every section in one run (see
 * test/helpers/lockstep-cases.ts).
 */
import { fullCases } from './helpers/lockstep-cases.js';
import { lockstepCaseTest } from './helpers/lockstep-case-test.js';

for (const c of fullCases('b')) lockstepCaseTest(c);
