/**
 * Issue #6 acceptance, part 1: every musl static C fixture in lockstep with
 * the host CPU through the fast transport, to its end, with zero
 * divergences and equal output; the threaded and forking ones with every
 * thread and child process followed (each one's instructions compared).
 * The long full runs are in lockstep-ci-full-a, -b and -c (see
 * test/helpers/lockstep-cases.ts).
 */
import { fixtureCases, workloadInput } from './helpers/lockstep-cases.js';
import { lockstepCaseTest } from './helpers/lockstep-case-test.js';

for (const c of fixtureCases(workloadInput())) lockstepCaseTest(c);
