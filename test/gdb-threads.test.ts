// Real gdb against `elfshim --gdb`: threads (info threads, thread N + bt, per-thread
// registers, stop replies naming the thread that stopped) and dynamically linked programs
// (the first stop in ld.so, break main, info sharedlibrary through qXfer:libraries-svr4,
// bt into libc), compared with Debian's gdbserver where the output is deterministic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, haveGdb, haveGdbserver, normaliseGdb, runGdb, runGdbserver } from './helpers/gdb-run.js';

// Runs on the default (translating) engine. gdbserver gets the same environment as elfshim.
const ENV = {};
const TIMEOUT = 150_000;

const build = (variant: string, name: string) => path.join(ROOT, 'test/fixtures/build', variant, name);
const THREADS_PIE = build('debug-glibc-pie', 'debug-threads');
const THREADS_DYN = build('debug-glibc-dynamic', 'debug-threads');
const THREADS_MUSL = build('debug-musl', 'debug-threads');
const DEBUG_DYN = build('debug-glibc-dynamic', 'debug');
const skip = !haveGdb() ? 'gdb is not installed' : !fs.existsSync(THREADS_PIE) || !fs.existsSync(DEBUG_DYN) ? 'fixtures not built (npm run fixtures)' : false;

const gdb = (program: string, commands: string[], args: string[] = []) => runGdb(program, args, commands, { env: ENV, timeoutMs: TIMEOUT });

/** The `info threads` rows: id, target id, frame. */
function threadRows(text: string): { current: boolean; id: number; target: string; frame: string }[] {
  const rows = [];
  for (const m of text.matchAll(/^([* ]) +(\d+) +(Thread \d+\.\d+(?: "[^"]*")?) +(.*)$/gm)) {
    rows.push({ current: m[1] === '*', id: Number(m[2]), target: m[3], frame: m[4] });
  }
  return rows;
}

for (const [variant, program] of [['glibc static-pie', THREADS_PIE], ['glibc dynamic', THREADS_DYN], ['musl static', THREADS_MUSL]] as const) {
  test(`${variant}: info threads lists every thread, thread N + bt, per-thread fs_base, stops name their thread`, { skip }, async () => {
    const r = await gdb(program, [
      'break all_parked',
      'continue',
      'info threads',
      'thread 2',
      'bt',
      'p/x $fs_base',
      'thread 1',
      'bt',
      'p/x $fs_base',
      'break worker_done',
      'continue',
      'info threads',
      'bt',
      'p id',
      'delete',
      'continue',
    ]);
    // Four threads at all_parked: main there, the three workers parked in the condition variable.
    assert.match(r.gdb, /\[New Thread \d+\.\d+\]/);
    assert.match(r.gdb, /Thread 1 (?:"debug-threads" )?hit Breakpoint 1, all_parked \(count=3\)/);
    const atParked = threadRows(r.gdb.slice(0, r.gdb.indexOf('[Switching to thread 2')));
    assert.equal(atParked.length, 4, `four threads in:\n${r.gdb}`);
    assert.ok(atParked[0].current && /all_parked \(count=3\)/.test(atParked[0].frame), atParked[0].frame);
    for (const row of atParked.slice(1)) assert.ok(!row.current && row.frame !== '', row.frame);
    // pthread_setname_np writes /proc/self/task/TID/comm; qXfer:threads reports the names.
    assert.deepEqual(atParked.map((t) => /"([^"]*)"/.exec(t.target)?.[1]), ['debug-threads', 'worker-1', 'worker-2', 'worker-3']);
    // thread 2 + bt: the worker's own stack, down to its start routine.
    const afterSwitch = r.gdb.slice(r.gdb.indexOf('[Switching to thread 2'));
    if (variant === 'musl static') {
      // musl's libc.a has no unwind tables: gdb stops in __timedwait_cp, natively too.
      if (haveGdbserver()) {
        const native = await runGdbserver(program, [], ['break all_parked', 'continue', 'thread 2', 'bt', 'kill'], ENV);
        const frames = (text: string) => normaliseGdb(text).filter((l) => /^#\d/.test(l)).slice(0, 4);
        assert.deepEqual(frames(afterSwitch.slice(0, afterSwitch.indexOf('$1 ='))), frames(native.gdb.slice(native.gdb.indexOf('[Switching to thread 2'))));
      }
    } else {
      assert.match(afterSwitch, /#\d+ +0x[0-9a-f]+ in park \(id=[123]\) at .*debug-threads\.c:\d+/);
      assert.match(afterSwitch, /#\d+ +0x[0-9a-f]+ in worker \(arg=0x[123]\) at .*debug-threads\.c:\d+/);
    }
    // Registers are per thread: each has its own TLS block.
    const fsBases = [...r.gdb.matchAll(/^\$\d+ = (0x[0-9a-f]+)$/gm)].map((m) => m[1]);
    assert.equal(fsBases.length, 2, r.gdb);
    assert.notEqual(fsBases[0], fsBases[1]);
    assert.match(r.gdb, /\[Switching to thread 1 .*\]\n#0  all_parked \(count=3\)[^\n]*\n[^\n]*\n#0  all_parked[^\n]*\n#1  0x[0-9a-f]+ in main \(\)/);
    // A worker hits worker_done: the stop reply names it, gdb switches to it.
    const hit = /\[Switching to Thread \d+\.(\d+)\]\n\nThread (\d+) (?:"worker-\d" )?hit Breakpoint 2, worker_done \(id=([123])\)/.exec(r.gdb);
    assert.ok(hit, `a worker thread reported at worker_done:\n${r.gdb}`);
    assert.notEqual(hit[2], '1');
    const atDone = threadRows(r.gdb.slice(hit.index));
    const current = atDone.find((t) => t.current);
    assert.ok(current && current.id === Number(hit[2]) && /worker_done/.test(current.frame), JSON.stringify(atDone));
    assert.ok(current.target.includes(`.${hit[1]}`));
    assert.match(r.gdb, /#0  worker_done \(id=[123]\)[^\n]*\n#1  0x[0-9a-f]+ in worker \(arg=0x[123]\)/);
    assert.match(r.gdb, new RegExp(`^\\$3 = ${hit[3]}$`, 'm'));
    assert.match(r.gdb, /\[Inferior 1 \(process \d+\) exited normally\]/);
    assert.equal(r.guestOut, 'workers done, sum=60\n');
  });
}

test('dynamic program: first stop in ld.so, break main, info sharedlibrary, bt from write() into main', { skip }, async () => {
  const commands = ['info sharedlibrary', 'break main', 'continue', 'info sharedlibrary', 'break write', 'continue', 'bt', 'kill'];
  const r = await gdb(DEBUG_DYN, commands, ['2']);
  assert.match(r.gdb, /0x[0-9a-f]+ in _start \(\) from target:\/lib64\/ld-linux-x86-64\.so\.2/);
  assert.match(r.gdb, /Breakpoint 1, main \(argc=2, argv=0x[0-9a-f]+\) at .*debug\.c:\d+/);
  const libs = [...r.gdb.matchAll(/^(0x[0-9a-f]+) +(0x[0-9a-f]+) +Yes +(target:\S+)$/gm)].map((m) => m.slice(1, 4).join(' '));
  // ld.so alone at the first stop; ld.so and libc at main.
  assert.equal(libs.length, 3, r.gdb);
  assert.match(libs[0], /ld-linux-x86-64\.so\.2$/);
  assert.match(libs[2], /\/libc\.so\.6$/);
  assert.match(r.gdb, /Breakpoint 2, (__GI___libc_write|__libc_write|write) \(fd=1/);
  // gdb's stdout and stderr arrive through two pipes: its "No such file" line for write.c (stderr)
  // can land between a frame's '#' and its number, so the frames are matched from the number on.
  assert.match(r.gdb, /\d+ +0x[0-9a-f]+ in _IO_new_file_write /);
  assert.match(r.gdb, /\d+ +0x[0-9a-f]+ in main \(argc=2, argv=0x[0-9a-f]+\) at .*debug\.c:\d+/);
  assert.match(r.gdb, /\[Inferior 1 \(process \d+\) killed\]/);

  if (!haveGdbserver()) return;
  // The same libraries at the same addresses as under Linux (gdbserver disables ASLR like elfshim has none).
  const native = await runGdbserver(DEBUG_DYN, ['2'], commands, ENV);
  const nativeLibs = normaliseGdb(native.gdb).filter((l) => /^0x[0-9a-f]+ +0x[0-9a-f]+ +Yes /.test(l)).map((l) => l.split(/ +/).join(' ').replace(' Yes', ''));
  assert.deepEqual(libs, nativeLibs);
});

test('dynamic program: the qXfer:libraries-svr4 document names ld.so and libc with link_map addresses', { skip }, async () => {
  const r = await gdb(DEBUG_DYN, ['set debug remote 1', 'break main', 'continue', 'info sharedlibrary', 'kill'], ['1']);
  const docs = [...r.gdb.matchAll(/Packet received: l(<library-list-svr4[^\n]*)/g)].map((m) => m[1]);
  assert.ok(docs.length >= 1, 'gdb asked for qXfer:libraries-svr4 and got a document');
  const last = docs[docs.length - 1];
  assert.match(last, /^<library-list-svr4 version="1\.0" main-lm="0x[0-9a-f]+">/);
  assert.match(last, /<library name="\/lib\/x86_64-linux-gnu\/libc\.so\.6" lm="0x[0-9a-f]+" l_addr="0x[0-9a-f]+" l_ld="0x[0-9a-f]+" lmid="0x[0-9a-f]+"\/>/);
  assert.match(last, /<library name="\/lib64\/ld-linux-x86-64\.so\.2" lm="0x[0-9a-f]+" l_addr="0x[0-9a-f]+" l_ld="0x[0-9a-f]+" lmid="0x[0-9a-f]+"\/>/);
  assert.match(last, /<\/library-list-svr4>$/);
});
