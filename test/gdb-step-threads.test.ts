// Stepping one thread while the others run (vCont "s:T;c"), as gdb does for
// `next` in all-stop mode: a thread stepping through a blocking futex wait
// completes its step once the other threads have woken it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, haveGdb, haveGdbserver, runGdb, runGdbserver } from './helpers/gdb-run.js';

const THREADS_DYN = path.join(ROOT, 'test/fixtures/build/debug-glibc-dynamic/debug-threads');
const skip = !haveGdb() ? 'gdb is not installed' : !fs.existsSync(THREADS_DYN) ? 'fixtures not built' : false;

test('next in a thread blocked in a futex wait: the others run and the step completes', { skip }, async () => {
  const r = await runGdb(THREADS_DYN, [], ['break worker', 'continue', 'thread 1', 'delete', 'next', 'next', 'info threads', 'kill'], { timeoutMs: 120_000 });
  assert.doesNotMatch(r.gdb, /Cannot execute this command while the target is running/);
  const rows = [...r.gdb.matchAll(/^\* +1 +Thread \d+\.\d+ "debug-threads" +(.*)$/gm)];
  assert.equal(rows.length, 1, `info threads lists thread 1 as current:\n${r.gdb}`);
  // The step left the futex wait it was blocked in.
  assert.doesNotMatch(rows[0][1], /__futex_abstimed_wait_common64/, r.gdb);
  assert.match(r.gdb, /\[Inferior 1 \(process \d+\) killed\]/);
});

test('stepi of a thread blocked in a syscall completes that call only, while the others run', { skip }, async () => {
  const r = await runGdb(THREADS_DYN, [], ['break worker', 'continue', 'thread 1', 'delete', 'bt 1', 'set $before = $pc', 'stepi', 'p $pc == $before', 'p $rax', 'kill'], { timeoutMs: 120_000 });
  assert.match(r.gdb, /#0 .*__futex_abstimed_wait_common64/, 'thread 1 waits in a futex at the breakpoint');
  // The step ran the rest of the futex call (the workers woke it) and no further instruction.
  assert.match(r.gdb, /^\$1 = 1$/m, r.gdb);
  assert.match(r.gdb, /^\$2 = 0$/m, r.gdb);
});

test('$_siginfo per thread: the thread that hit the breakpoint has SIGTRAP, the others SIGSTOP/SI_TKILL as under gdbserver', { skip }, async () => {
  const commands = ['break worker', 'continue', 'p $_siginfo.si_signo', 'p $_siginfo.si_code', 'thread 1', 'p $_siginfo.si_signo', 'p $_siginfo.si_code', 'kill'];
  const values = (text: string) => [...text.matchAll(/^\$\d+ = (-?\d+)$/gm)].map((m) => Number(m[1]));
  const ours = values((await runGdb(THREADS_DYN, [], commands, { timeoutMs: 120_000 })).gdb);
  assert.deepEqual(ours, [5, 128, 19, -6]);
  if (!haveGdbserver()) return;
  const theirs = values((await runGdbserver(THREADS_DYN, [], commands)).gdb);
  assert.deepEqual(theirs.slice(0, 2), ours.slice(0, 2));
  // Under gdbserver thread 1 may still be creating the next worker when the first one hits the
  // breakpoint: its stop is then the clone event (SIGTRAP | PTRACE_EVENT_CLONE << 8), not SIGSTOP.
  const CLONE_EVENT = [5, 5 | (3 << 8)];
  assert.ok(
    [ours.slice(2), CLONE_EVENT].some((v) => JSON.stringify(v) === JSON.stringify(theirs.slice(2))),
    `gdbserver's thread 1: ${theirs.slice(2)}`,
  );
});
