// Threads stopped inside a blocking system call, through real gdb: rax shows the
// kernel's restart code as under ptrace, an inferior function call in such a thread
// works, and the call it interrupted goes on afterwards (gdb writes the registers
// back; Linux restarts the call from them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, haveGdb, haveGdbserver, runGdb, runGdbserver } from './helpers/gdb-run.js';

const TRAPS = path.join(ROOT, 'test/fixtures/build/debug-glibc-pie/debug-traps');
const THREADS = path.join(ROOT, 'test/fixtures/build/debug-glibc-pie/debug-threads');
const skip = !haveGdb() ? 'gdb is not installed' : !fs.existsSync(TRAPS) || !fs.existsSync(THREADS) ? 'fixtures not built (npm run fixtures)' : false;

const values = (text: string) => [...text.matchAll(/^\$\d+ = (-?\d+)$/gm)].map((m) => Number(m[1]));

test('Ctrl-C in nanosleep: rax is -ERESTART_RESTARTBLOCK, a function call works there, and continue finishes the sleep', { skip, timeout: 120_000 }, async () => {
  // Ctrl-C well inside the 6 s sleep; after the call the sleep starts over (restart_syscall is not emulated).
  const r = await runGdb(TRAPS, ['sleep'], ['continue', 'p $rax', 'p $orig_rax', 'p twice(21)', 'p $rax', 'continue'], { interruptAfterMs: 2500 });
  assert.match(r.gdb, /Program received signal SIGINT, Interrupt\./);
  // clock_nanosleep (230), stopped inside; gdb wrote the registers back after the call.
  assert.deepEqual(values(r.gdb), [-516, 230, 42, -516]);
  assert.match(r.gdb, /\[Inferior 1 \(process \d+\) exited normally\]/);
  assert.equal(r.guestOut, 'slept\ndebug-traps sleep: done\n');
});

test('threads parked in futex waits show -ERESTARTSYS; a function call in one leaves the program working, as under gdbserver', { skip: skip || (!haveGdbserver() && 'gdbserver is not installed'), timeout: 180_000 }, async () => {
  // A worker that is in its futex wait (one may still be on its way there when main reaches all_parked).
  const parkedWorker = `python exec("for t in sorted(gdb.selected_inferior().threads(), key=lambda t: -t.num):\\n t.switch()\\n if t.num > 1 and 'futex_abstimed_wait' in (gdb.newest_frame().name() or ''): break")`;
  const commands = ['break all_parked', 'continue', parkedWorker, 'p $rax', 'p $orig_rax', 'p worker_done(7)', 'p $rax', 'delete', 'continue'];
  const ours = await runGdb(THREADS, [], commands);
  assert.deepEqual(values(ours.gdb), [-512, 202, 1070, -512]);
  assert.match(ours.gdb, /\[Inferior 1 \(process \d+\) exited normally\]/);
  assert.equal(ours.guestOut, 'workers done, sum=60\n');
  const theirs = await runGdbserver(THREADS, [], commands);
  assert.deepEqual(values(theirs.gdb), values(ours.gdb));
  assert.equal(theirs.guestOut, ours.guestOut);
});
