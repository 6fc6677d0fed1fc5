// Real gdb against `elfshim --gdb` and against Debian's gdbserver on the same program
// (test/fixtures/src/debug-traps.c): what the CPU itself does under a debugger —
// a single step or a data breakpoint inside a rep string instruction stops after one
// iteration, and ud2, a divide error and an int3 in the program stop gdb with SIGILL,
// SIGFPE and SIGTRAP and the siginfo Linux gives them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, haveGdb, haveGdbserver, normaliseGdb, runGdb, runGdbserver } from './helpers/gdb-run.js';

const TRAPS = path.join(ROOT, 'test/fixtures/build/debug-glibc-pie/debug-traps');
const skip = !haveGdb() ? 'gdb is not installed' : !haveGdbserver() ? 'gdbserver is not installed' : !fs.existsSync(TRAPS) ? 'fixtures not built (npm run fixtures)' : false;

/** What gdb prints for the same commands under elfshim and under gdbserver (normalised); asserts they agree. */
async function sameAsGdbserver(args: string[], commands: string[]): Promise<string[]> {
  const ours = normaliseGdb((await runGdb(TRAPS, args, commands)).gdb);
  const theirs = normaliseGdb((await runGdbserver(TRAPS, args, commands)).gdb);
  assert.deepEqual(ours, theirs);
  return ours;
}

const REGS = 'printf "pc=%lx rcx=%lu rdi=dst+%ld rsi=src+%ld\\n", $pc, $rcx, $rdi - (long)dst, $rsi - (long)src';
const steps = (n: number) => Array.from({ length: n }, () => ['stepi', REGS]).flat();

test('stepi walks a rep string instruction one iteration at a time, as under gdbserver', { skip, timeout: 180_000 }, async () => {
  const out = await sameAsGdbserver(['rep'], [
    'break rep_stos', 'continue', REGS, ...steps(8),
    'delete', 'break rep_cmps', 'continue', ...steps(6),
    'delete', 'break rep_zero', 'continue', ...steps(1),
    'kill',
  ]);
  const regs = out.filter((l) => l.startsWith('pc='));
  // rep stosb of 5: the pc stays on the instruction while rcx counts down 4, 3, 2, 1.
  const stos = regs.slice(0, 6).map((l) => /rcx=(\d+) rdi=dst\+(\d+)/.exec(l)!.slice(1, 3).join('/'));
  assert.deepEqual(stos, ['5/0', '4/1', '3/2', '2/3', '1/4', '0/5']);
  assert.equal(new Set(regs.slice(0, 5).map((l) => l.split(' ')[0])).size, 1, 'the pc stays on rep stosb');
  assert.notEqual(regs[5].split(' ')[0], regs[4].split(' ')[0], 'the last iteration moves on');
  // repe cmpsb of 8 over "abcdXf…" against "abcdef…": stops after the fifth byte (the X) with rcx = 3.
  assert.ok(regs.some((l) => / rcx=3 rdi=dst\+5 rsi=src\+5$/.test(l)), regs.join('\n'));
});

test('a watchpoint inside rep stosb / rep movsb stops after the iteration that touched it, as under gdbserver', { skip, timeout: 180_000 }, async () => {
  const out = await sameAsGdbserver(['rep'], [
    'break rep_demo', 'continue', 'watch dst[2]', 'rwatch src[3]',
    'continue', REGS, 'p $_siginfo.si_code', 'continue', REGS, 'continue', REGS, 'continue', REGS, 'kill',
  ]);
  const text = out.join('\n');
  // rep stosb: dst[2] is written by the third iteration; the stop leaves two to go.
  assert.match(text, /Old value = 0 '\\000'\nNew value = 65 'A'\n.*rep_demo.*\n.*\npc=[0-9a-f]+ rcx=2 rdi=dst\+3 /);
  assert.match(text, /\$1 = 4\b/); // TRAP_HWBKPT
  // rep movsb: the third iteration writes dst[2], the fourth reads src[3].
  assert.match(text, /New value = 99 'c'\n.*\n.*\npc=[0-9a-f]+ rcx=3 rdi=dst\+3 /);
  assert.match(text, /Hardware read watchpoint 3: src\[3\]\nValue = 100 'd'\n.*\n.*\npc=[0-9a-f]+ rcx=2 rdi=dst\+4 /);
});

// The end: gdb passes SIGILL and SIGFPE on, which kill the guest (an X stop reply); it keeps SIGTRAP.
for (const [mode, banner, signo, end] of [
  ['ill', 'Program received signal SIGILL, Illegal instruction.', 4, 'Program terminated with signal SIGILL, Illegal instruction.'],
  ['fpe', 'Program received signal SIGFPE, Arithmetic exception.', 8, 'Program terminated with signal SIGFPE, Arithmetic exception.'],
  ['int3', 'Program received signal SIGTRAP, Trace/breakpoint trap.', 5, '[Inferior 1 (process N) exited normally]'],
] as const) {
  test(`${mode}: gdb stops with the signal, $_siginfo and the pc as under gdbserver; continue ends as natively`, { skip, timeout: 120_000 }, async () => {
    const out = await sameAsGdbserver([mode], [
      'continue', 'p $_siginfo.si_signo', 'p $_siginfo.si_code', 'p $_siginfo._sifields._sigfault.si_addr == $pc', 'x/i $pc', 'bt 1', 'continue',
    ]);
    assert.ok(out.includes(banner), out.join('\n'));
    assert.ok(out.includes(`$1 = ${signo}`), out.join('\n'));
    assert.ok(out.includes(end), out.join('\n'));
  });
}

test('a software breakpoint leaves the code as the guest and gdb read it (no int3 written, unlike gdbserver)', { skip, timeout: 120_000 }, async () => {
  const native = spawnSync(TRAPS, ['code'], { encoding: 'utf8' }).stdout;
  assert.match(native, /^rep_demo starts with [0-9a-f]{2}\n/);
  const r = await runGdb(TRAPS, ['code'], ['break *rep_demo', 'x/2xb rep_demo', 'continue', 'x/i rep_demo', 'delete', 'continue']);
  // The guest reads its own first byte of rep_demo while the breakpoint is inserted.
  assert.equal(r.guestOut, native);
  assert.doesNotMatch(r.gdb, /int3/);
  assert.match(r.gdb, /exited normally/);
  // Under gdbserver the int3 is in the process's memory, and the program sees it.
  const theirs = await runGdbserver(TRAPS, ['code'], ['break *rep_demo', 'continue', 'delete', 'continue']);
  assert.match(theirs.guestOut, /^rep_demo starts with cc\n/);
});
