/**
 * Issue #6 acceptance, part 1 continued: strings' full run (19.9M steps: every
 * string function over every alignment class, value and edge case, with its
 * repetitions), in lockstep with the host CPU to its end; the longest of the
 * CI runs, alone in its file (see lockstep-ci-full-a).
 */
import { fullCases } from './helpers/lockstep-cases.js';
import { lockstepCaseTest } from './helpers/lockstep-case-test.js';

for (const c of fullCases('c')) lockstepCaseTest(c);
