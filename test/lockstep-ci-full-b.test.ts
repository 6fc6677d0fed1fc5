/**
 * Issue #6 acceptance, part 1 continued: qsort 5000, sigchld-wait and
 * sysmisc (every section in one run) in full, in lockstep with the host CPU
 * to their end (see lockstep-ci-full-a).
 */
import { fullCases } from './helpers/lockstep-cases.js';
import { lockstepCaseTest } from './helpers/lockstep-case-test.js';

for (const c of fullCases('b')) lockstepCaseTest(c);
