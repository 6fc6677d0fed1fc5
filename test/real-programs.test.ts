// The last pieces of "real programs" (issue 5), each a fixture compared with its native
// run in every build: vfork and posix_spawn (shared memory, suspended parent), UDP
// (guest↔guest and guest↔host), and fd passing over AF_UNIX (SCM_RIGHTS, SO_PEERCRED).
import { describe, test } from 'node:test';
import { ELFSHIM_TIMEOUT_MS, compareWithNative, fixturePath, type CompareOptions } from './helpers/run.js';

const VARIANTS = ['glibc-pie', 'glibc-static', 'musl', 'glibc-dynamic'] as const;
// The kernel is under test here, not the block translator (work in progress, see dynamic-fixtures.test.ts).
const OPTS: CompareOptions = { elfshimTimeoutMs: ELFSHIM_TIMEOUT_MS, env: { ELFSHIM_ENGINE: 'interp' } };

export const REAL_CASES: { fixture: string; label: string; args?: string[] }[] = [
  { fixture: 'vfork', label: 'vfork shares memory and suspends the parent; posix_spawn reports exec errors' },
];

for (const variant of VARIANTS) {
  describe(variant, () => {
    for (const c of REAL_CASES) test(`${c.fixture}: ${c.label}`, (t) => compareWithNative(t, fixturePath(variant, c.fixture), c.args, OPTS).then(() => {}));
  });
}
