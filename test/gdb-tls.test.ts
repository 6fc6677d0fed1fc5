// Real gdb printing __thread variables through `elfshim --gdb` (qGetTLSAddr), per
// thread, compared with Debian's gdbserver on the same program: gdb names the module by
// its link_map and the stub finds the thread's block through glibc's dtv. musl has no
// libthread_db, so gdbserver refuses there: elfshim must refuse the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, haveGdb, haveGdbserver, runGdb, runGdbserver } from './helpers/gdb-run.js';

const ENV = { ELFSHIM_ENGINE: 'interp' }; // as in gdb-threads.test.ts: the stub is under test, not the JIT
const build = (variant: string) => path.join(ROOT, 'test/fixtures/build', variant, 'debug-threads');
const skip = !haveGdb() || !haveGdbserver() ? 'gdb/gdbserver not installed' : !fs.existsSync(build('debug-glibc-pie')) ? 'fixtures not built' : false;

// At all_parked every worker has set my_id (main keeps -1); errno lives in libc's block
// (another module in the dynamic build, so the module id must be right). Where ld.so puts
// the blocks differs (elfshim has no vDSO), so addresses are compared relative to fs_base.
const COMMANDS = [
  'break all_parked',
  'continue',
  'thread apply all -q print my_id',
  'thread apply all -q print (int)errno',
  'thread apply all -q print (long)&my_id - (long)$fs_base',
  'kill',
];

/** The value lines and TLS errors gdb printed, in order, without host thread ids. */
function values(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /^\$\d+ = |Cannot find thread-local|qGetTLSAddr/.test(l))
    .map((l) => l.replace(/Thread \d+\.\d+/g, 'Thread P.T'));
}

for (const variant of ['debug-glibc-pie', 'debug-glibc-dynamic', 'debug-musl']) {
  test(`${variant}: print of a __thread variable and errno in every thread matches gdbserver`, { skip, timeout: 200_000 }, async () => {
    const program = build(variant);
    const [ours, native] = [await runGdb(program, [], COMMANDS, { env: ENV, timeoutMs: 150_000 }), await runGdbserver(program, [], COMMANDS, ENV)];
    const got = values(ours.gdb), want = values(native.gdb);
    assert.ok(want.length > 0, `gdbserver printed nothing: ${native.gdb}`);
    assert.deepEqual(got, want, ours.gdb);
    if (variant !== 'debug-musl') assert.deepEqual(got.slice(0, 4).map((l) => l.replace(/^\$\d+ = /, '')).sort(), ['-1', '1', '2', '3']);
  });
}
