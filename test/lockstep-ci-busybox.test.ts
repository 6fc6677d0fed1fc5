/**
 * Issue #6 acceptance, part 2: busybox (glibc static) gzip, sha256sum and
 * awk in lockstep with the host CPU through the fast transport for their
 * first 2,000,000 instructions each, with zero divergences. Each prints the
 * differ's summary line (instructions compared) and its time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFastLockstep } from '../src/lockstep/fast/fast-differ.js';
import { formatSummary } from '../src/lockstep/report.js';
import { TRACER, busyboxCases, missing, workloadInput } from './helpers/lockstep-cases.js';

const input = workloadInput();

for (const c of busyboxCases(input)) {
  test(`lockstep (fast): ${c.title}, first ${c.max} instructions`, { skip: missing(c.program) }, async (t) => {
    const started = Date.now();
    const r = await runFastLockstep({ program: c.program, args: c.args, env: c.env ?? {}, tracer: TRACER, ...(c.max ? { max: c.max } : {}) });
    t.diagnostic(`${formatSummary(r).split('\n').pop()} [${((Date.now() - started) / 1000).toFixed(1)} s]`);
    assert.equal(r.divergence, null, formatSummary(r));
    assert.match(r.end, c.end);
    assert.ok(r.compared >= Math.min(c.max ?? 0, 1_000_000), `only ${r.compared} instructions compared`);
  });
}
