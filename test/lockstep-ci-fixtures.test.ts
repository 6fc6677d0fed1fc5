/**
 * Issue #6 acceptance, part 1: every musl static C fixture in lockstep with
 * the host CPU through the fast transport, to its end, with zero
 * divergences and equal output; the threaded and forking ones with every
 * thread and child process followed (each one's instructions compared). Each prints the differ's summary
 * line (how many instructions were compared, per thread) and its time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFastLockstep } from '../src/lockstep/fast/fast-differ.js';
import { formatSummary } from '../src/lockstep/report.js';
import { TRACER, PEER_PORT, fixtureCases, missing, workloadInput } from './helpers/lockstep-cases.js';
import { startPeer } from './helpers/lockstep-peers.js';

const input = workloadInput();

for (const c of fixtureCases(input)) {
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
