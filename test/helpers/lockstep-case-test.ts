/**
 * One lockstep CI case as a node:test test (lockstep-ci-fixtures, lockstep-ci-full): the fast differ over the
 * case's program to its end, zero divergences, equal output, every thread and child followed. Each prints the
 * differ's summary line (how many instructions were compared, per thread) and its time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFastLockstep } from '../../src/lockstep/fast/fast-differ.js';
import { formatSummary } from '../../src/lockstep/report.js';
import { TRACER, PEER_PORT, missing, type LockstepCase } from './lockstep-cases.js';
import { startPeer } from './lockstep-peers.js';

export function lockstepCaseTest(c: LockstepCase): void {
  // The build directory names the variant: musl (the static fixtures of the acceptance), glibc-static.
  test(`lockstep (fast): ${c.program.split('/').at(-2)} ${c.title}`, { skip: missing(c.program) }, async (t) => {
    const peer = c.peer ? await startPeer(c.peer) : null;
    t.after(() => peer?.stop());
    const args = c.args.map((a) => (a === PEER_PORT ? String(peer?.port) : a));
    const started = Date.now();
    const r = await runFastLockstep({ program: c.program, args, env: c.env ?? {}, tracer: TRACER, ...(peer?.onPortLearned ? { onPortLearned: peer.onPortLearned } : {}), ...(c.stdin ? { stdin: c.stdin } : {}), ...(c.max ? { max: c.max } : {}), ...(c.workDirs ? { workDirs: true } : {}), ...(c.onUnimplemented ? { onUnimplemented: c.onUnimplemented } : {}), ...(c.vdso ? { vdso: true } : {}) });
    t.diagnostic(`${formatSummary(r).split('\n').pop()} [${((Date.now() - started) / 1000).toFixed(1)} s]`);
    assert.equal(r.divergence, null, formatSummary(r));
    assert.match(r.end, c.end);
    if (c.threads) {
      assert.equal(r.threads?.length, c.threads, 'threads followed');
      for (const th of r.threads) assert.ok(th.compared > 0, `thread ${th.tid} ran no compared instruction`);
    }
    if (/exited|killed/.test(r.end)) assert.equal(r.elfshimOutput, r.nativeOutput, 'the program output differs');
    if (c.output) assert.match(r.nativeOutput, c.output, 'what the native run printed under the differ');
    if (peer?.transcripts) {
      // The host clients got the same echoes from both runs' servers, all of them.
      const [e, n] = await peer.transcripts();
      assert.equal(e, n, 'the host clients of the two servers');
      assert.equal(n, peer.expected, 'every byte echoed');
    }
  });
}
