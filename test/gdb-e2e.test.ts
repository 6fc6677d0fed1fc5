import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, haveGdb, haveGdbserver, normaliseGdb, runGdb, runGdbserver } from './helpers/gdb-run.js';

const DEBUG_PIE = path.join(ROOT, 'test/fixtures/build/debug-glibc-pie/debug');
const DEBUG_DYNAMIC = path.join(ROOT, 'test/fixtures/build/debug-glibc-dynamic/debug');
const DEBUG_MUSL = path.join(ROOT, 'test/fixtures/build/debug-musl/debug');
const skip = !haveGdb() ? 'gdb is not installed' : !fs.existsSync(DEBUG_PIE) ? 'fixtures not built (npm run fixtures)' : false;

for (const [variant, program] of [['glibc static-pie', DEBUG_PIE], ['musl static', DEBUG_MUSL]] as const) {
  test(`${variant}: stops before the first instruction, PIE relocated, startup walkable`, { skip }, async () => {
    const r = await runGdb(program, ['3'], ['info registers rip', 'stepi 5', 'x/3i $pc', 'info auxv', 'kill']);
    assert.match(r.gdb, /rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <_start>/);
    assert.match(r.gdb, /=> 0x[0-9a-f]+ <_start[_a-z]*(\+\d+)?>:/);
    for (const key of ['AT_ENTRY', 'AT_PHDR', 'AT_RANDOM']) assert.match(r.gdb, new RegExp(key));
  });

  test(`${variant}: hbreak main, args, next/step/finish, locals`, { skip }, async () => {
    const r = await runGdb(program, ['3'], ['hbreak main', 'continue', 'info args', 'p argv[1]', 'bt', 'next', 'next', 'next', 'break step_loop', 'continue', 'step', 'step', 'info locals', 'step', 'finish', 'kill']);
    assert.match(r.gdb, /Breakpoint 1, main \(argc=2, argv=0x[0-9a-f]+\)/);
    assert.match(r.gdb, /\$1 = 0x[0-9a-f]+ "3"/);
    assert.match(r.gdb, /#0  main \(argc=2/);
    assert.match(r.gdb, /^44\t/m); // next walks the source lines
    assert.match(r.gdb, /Breakpoint 2, step_loop \(iterations=3\)/);
    assert.match(r.gdb, /^i = 0\ntotal = 0$/m);
    assert.match(r.gdb, /add_numbers \(a=0, b=0\) at .*debug\.c:16/);
    assert.match(r.gdb, /Value returned is \$\d+ = 0/);
  });
}

test('breakpoints: repeated hits, delete, disable, conditions', { skip }, async () => {
  const r = await runGdb(DEBUG_PIE, ['4'], ['break add_numbers', 'continue', 'continue', 'p a', 'disable 1', 'break add_numbers if a == 3', 'continue', 'p b', 'delete', 'continue']);
  assert.equal((r.gdb.match(/Breakpoint 1, add_numbers/g) ?? []).length, 2);
  assert.match(r.gdb, /\$1 = 1/);
  assert.match(r.gdb, /Breakpoint 2, add_numbers \(a=3, b=30\)/);
  assert.match(r.gdb, /\$2 = 30/);
  assert.match(r.gdb, /\[Inferior 1 \(process \d+\) exited normally\]/);
  assert.match(r.guestOut, /total=66 global_counter=66/);
});

test('watch, rwatch and awatch report like hardware watchpoints', { skip }, async () => {
  const r = await runGdb(DEBUG_PIE, ['3'], ['break step_loop', 'continue', 'watch global_counter', 'continue', 'continue', 'delete', 'rwatch global_counter', 'continue', 'delete', 'awatch global_counter', 'continue', 'kill']);
  assert.match(r.gdb, /Hardware watchpoint 2: global_counter\s+Old value = 0\s+New value = 11/);
  assert.match(r.gdb, /Old value = 11\s+New value = 33/);
  assert.match(r.gdb, /Hardware read watchpoint 3: global_counter\s+Value = 33/);
  assert.match(r.gdb, /Hardware access \(read\/write\) watchpoint 4: global_counter/);
});

test('set var and register writes change what the guest does', { skip }, async () => {
  const r = await runGdb(DEBUG_PIE, ['2'], ['break add_numbers', 'continue', 'set var a = 100', 'finish', 'set $rax = 7', 'delete', 'continue']);
  assert.match(r.gdb, /Value returned is \$1 = 100/);
  // step_loop's first add_numbers result was replaced by 7 after finish.
  assert.match(r.guestOut, /iteration 0 total 7/);
});

test('registers: general, segment, fs_base, SSE and x87 print like native', { skip }, async () => {
  const r = await runGdb(DEBUG_PIE, ['2'], ['hbreak step_loop', 'continue', 'info registers', 'info registers fs_base gs_base', 'p $xmm0', 'p $st0', 'p $mxcsr', 'p $fs_base != 0', 'kill']);
  for (const reg of ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r15', 'rip', 'eflags', 'cs', 'ss', 'ds', 'fs_base', 'gs_base']) {
    assert.match(r.gdb, new RegExp(`^${reg}\\s+0x`, 'm'), reg);
  }
  assert.match(r.gdb, /cs\s+0x33\s+51/);
  assert.match(r.gdb, /v4_float = \{/);
  assert.match(r.gdb, /\$\d+ = 0\n/); // st0 empty → 0
  assert.match(r.gdb, /\[ IM DM ZM OM UM PM \]/);
  assert.match(r.gdb, /\$\d+ = 1\n/);
});

test('a null-pointer write stops with SIGSEGV and $_siginfo has the address', { skip }, async () => {
  const r = await runGdb(DEBUG_PIE, ['1', '--crash'], ['continue', 'bt 1', 'p $_siginfo.si_signo', 'p $_siginfo._sifields._sigfault.si_addr', 'kill']);
  assert.match(r.gdb, /Program received signal SIGSEGV, Segmentation fault\./);
  assert.match(r.gdb, /#0  0x[0-9a-f]+ in crash_here \(\) at .*debug\.c:\d+|#0  crash_here \(\) at .*debug\.c:\d+/);
  assert.match(r.gdb, /\$1 = 11/);
  assert.match(r.gdb, /\$2 = \(void \*\) 0x0/);
});

test('Ctrl-C stops a spinning guest with SIGINT and continue resumes it', { skip }, async () => {
  const r = await runGdb(DEBUG_PIE, ['1', '--spin'], ['continue', 'p keep_spinning = 0', 'continue'], { interruptAfterMs: 1500 });
  assert.match(r.gdb, /Program received signal SIGINT, Interrupt\./);
  assert.match(r.gdb, /\[Inferior 1 \(process \d+\) exited normally\]/);
  assert.match(r.guestOut, /stopped spinning after \d+ spins/);
});

test('exit codes reach gdb; kill and detach', { skip }, async () => {
  const exitcode = path.join(ROOT, 'test/fixtures/build/glibc-pie/exitcode');
  const r1 = await runGdb(exitcode, ['exit', '42'], ['continue']);
  assert.match(r1.gdb, /\[Inferior 1 \(process \d+\) exited with code 052\]/);
  assert.equal(r1.elfshimStatus, 42);
  const r2 = await runGdb(DEBUG_PIE, ['2'], ['break add_numbers', 'continue', 'kill']);
  assert.match(r2.gdb, /\[Inferior 1 \(process \d+\) killed\]/);
  assert.notEqual(r2.elfshimStatus, 0);
  const r3 = await runGdb(DEBUG_PIE, ['2'], ['break add_numbers', 'continue', 'detach']);
  assert.match(r3.gdb, /\[Inferior 1 \(process \d+\) detached\]/);
  assert.equal(r3.elfshimStatus, 0);
  assert.match(r3.guestOut, /debug fixture: done/);
});

test('the same session against gdbserver prints the same', { skip: skip || (!haveGdbserver() && 'gdbserver is not installed') }, async () => {
  const commands = ['break add_numbers', 'continue', 'bt', 'info args', 'finish', 'p global_counter', 'x/4xb &global_counter', 'info registers rip', 'stepi', 'info registers rip', 'delete', 'continue'];
  const ours = normaliseGdb((await runGdb(DEBUG_PIE, ['2'], commands)).gdb);
  const theirs = normaliseGdb((await runGdbserver(DEBUG_PIE, ['2'], commands)).gdb);
  assert.deepEqual(ours, theirs);
});

test('a dynamic program against gdbserver: loader, shared libraries, $_siginfo of every kind of stop', { skip: skip || (!haveGdbserver() && 'gdbserver is not installed') }, async () => {
  const commands = [
    'p $_siginfo.si_code', 'stepi', 'p $_siginfo.si_code', 'p $_siginfo._sifields._sigfault.si_addr == $pc',
    'break main', 'continue', 'p $_siginfo.si_code', 'p $_siginfo._sifields._sigfault.si_addr', 'info sharedlibrary',
    'hbreak add_numbers', 'continue', 'p $_siginfo.si_code', 'p $_siginfo._sifields._sigfault.si_addr == $pc', 'delete',
    'watch global_counter', 'continue', 'p $_siginfo.si_code', 'delete', 'bt', 'finish', 'continue',
  ];
  const ours = normaliseGdb((await runGdb(DEBUG_DYNAMIC, ['2'], commands)).gdb);
  const theirs = normaliseGdb((await runGdbserver(DEBUG_DYNAMIC, ['2'], commands)).gdb);
  assert.deepEqual(ours, theirs);
  assert.ok(ours.some((l) => /libc\.so\.6/.test(l)), 'info sharedlibrary lists libc');
});

test('--no-wait: the guest runs at once and a late debugger stops it where it is', { skip }, async () => {
  const r = await runGdb(DEBUG_PIE, ['1', '--spin'], ['bt 1', 'p keep_spinning = 0', 'continue'], { extra: ['--no-wait'], connectDelayMs: 1500 });
  assert.match(r.gdb, /#0  .*spin_forever \(\) at .*debug\.c:\d+/);
  assert.match(r.gdb, /exited normally/);
  assert.match(r.guestOut, /stopped spinning after \d+ spins/);
});

test('memory reads, writes and breakpoints where nothing is mapped fail as under gdbserver; debug registers end below TASK_SIZE_MAX as in Linux', { skip: skip || (!haveGdbserver() && 'gdbserver is not installed') }, async () => {
  const commands = ['x/4xb 0', 'p *(int *)0x1000 = 1', 'break *0', 'break *0x1000', 'break add_numbers', 'continue', 'info breakpoints', 'delete', 'continue'];
  const ours = normaliseGdb((await runGdb(DEBUG_PIE, ['2'], commands)).gdb);
  const theirs = normaliseGdb((await runGdbserver(DEBUG_PIE, ['2'], commands)).gdb);
  assert.deepEqual(ours, theirs);
  assert.ok(ours.includes('Cannot access memory at address 0x1000'), ours.join('\n'));
  // A debug register may not reach 0x7ffffffff000 (Linux refuses it; gdbserver then drops the connection, so no comparison).
  const r = await runGdb(DEBUG_PIE, ['2'], ['hbreak *0x7ffffffff000', 'continue', 'delete', 'watch *(long *)0x7fffffffeff8', 'watch *(long *)0x7fffffffeffc', 'continue', 'delete', 'continue']);
  assert.match(r.gdb, /Cannot insert hardware breakpoint 1\./);
  assert.doesNotMatch(r.gdb, /Could not insert hardware watchpoint 2\./);
  assert.match(r.gdb, /Could not insert hardware watchpoint 3\./);
  assert.match(r.gdb, /\[Inferior 1 \(process \d+\) exited normally\]/);
});

test('eflags shows RF at a hardware breakpoint (as Linux saves it) and not after the next step or at an int3 breakpoint, as under gdbserver', { skip: skip || (!haveGdbserver() && 'gdbserver is not installed') }, async () => {
  const commands = ['hbreak step_loop', 'continue', 'info registers eflags', 'stepi', 'info registers eflags', 'delete', 'break add_numbers', 'continue', 'info registers eflags', 'kill'];
  // The arithmetic flags differ with the libc code paths taken (CPU features); RF is the debugger's business.
  const rf = (text: string) => [...text.matchAll(/^eflags +0x[0-9a-f]+ +\[([^\]]*)\]/gm)].map((m) => /\bRF\b/.test(m[1]));
  const ours = rf((await runGdb(DEBUG_PIE, ['2'], commands)).gdb);
  assert.deepEqual(ours, [true, false, false]);
  assert.deepEqual(ours, rf((await runGdbserver(DEBUG_PIE, ['2'], commands)).gdb));
});

test('gdb quitting at a stop kills a guest started for it, as with gdbserver PROG, and detaches from one it attached to (--no-wait)', { skip: skip || (!haveGdbserver() && 'gdbserver is not installed') }, async () => {
  const started = await runGdb(DEBUG_PIE, ['2'], ['break add_numbers', 'continue']);
  assert.match(started.gdb, /Breakpoint 1, add_numbers/);
  assert.doesNotMatch(started.guestOut, /debug fixture: done/);
  assert.equal(started.elfshimStatus, 137);
  assert.doesNotMatch((await runGdbserver(DEBUG_PIE, ['2'], ['break add_numbers', 'continue'])).guestOut, /debug fixture: done/);
  const attached = await runGdb(DEBUG_PIE, ['1', '--spin'], ['p keep_spinning = 0'], { extra: ['--no-wait'], connectDelayMs: 1500 });
  assert.match(attached.guestOut, /stopped spinning after \d+ spins/);
  assert.equal(attached.elfshimStatus, 0);
});
