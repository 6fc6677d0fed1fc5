/**
 * The lockstep differ over a few fixtures: each runs natively under
 * gdbserver and under elfshim's gdb stub, single-stepped side by side, and
 * must show no divergence (registers, defined flags, written memory, syscall
 * results, exit status, output). A last case corrupts a register on purpose
 * and checks that the differ reports it at the right instruction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runLockstep, type LockstepOptions } from '../src/lockstep/differ.js';
import { formatSummary } from '../src/lockstep/report.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = `${ROOT}/dist/cli.js`;
const fixture = (variant: string, name: string) => `${ROOT}/test/fixtures/build/${variant}/${name}`;

function missing(...programs: string[]): string | null {
  try {
    execFileSync('gdbserver', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'gdbserver is not installed';
  }
  if (!existsSync(CLI)) return 'dist/cli.js is not built';
  const absent = programs.filter((p) => !existsSync(p));
  return absent.length ? `fixtures not built: ${absent.join(', ')}` : null;
}

function run(program: string, args: string[], extra: Partial<LockstepOptions> = {}) {
  return runLockstep({ program, args, env: {}, elfshimCli: CLI, ...extra });
}

const cases: Array<{ title: string; program: string; args: string[]; max?: number; end: RegExp; min: number }> = [
  { title: 'musl hello runs to its exit in lockstep', program: fixture('musl', 'hello'), args: ['a', 'b'], end: /exited with status 0/, min: 10000 },
  { title: 'musl isa-mix (rcl/rcr, shld/shrd, bt on memory, cmpxchg16b, xlat, movbe, BMI, ADX) runs to its exit', program: fixture('musl', 'isa-mix'), args: ['1'], end: /exited with status 0/, min: 4000 },
  { title: 'glibc static hello: CPUID-driven start-up, first 6000 instructions', program: fixture('glibc-static', 'hello'), args: [], max: 6000, end: /--max 6000/, min: 6000 },
  // Handlers with and without SA_SIGINFO, a fault, an alternate stack, alarm + pause: each frame is compared field by field.
  { title: 'musl signals: every signal frame (fields, saved FPU state) and handler entry state as Linux makes them', program: fixture('musl', 'signals'), args: [], end: /killed by signal 15/, min: 12000 },
  { title: 'musl exitcode abort: raise(SIGABRT) ends both runs the same way', program: fixture('musl', 'exitcode'), args: ['abort'], end: /killed by signal 6/, min: 3000 },
];

for (const c of cases) {
  test(c.title, async (t) => {
    const why = missing(c.program);
    if (why) return t.skip(why);
    const r = await run(c.program, c.args, c.max ? { max: c.max } : {});
    t.diagnostic(formatSummary(r).split('\n').pop() ?? '');
    assert.equal(r.divergence, null, formatSummary(r));
    assert.match(r.end, c.end);
    assert.ok(r.compared >= c.min, `only ${r.compared} instructions compared`);
    if (/exited/.test(r.end)) assert.equal(r.elfshimOutput, r.nativeOutput);
  });
}

test('a register corrupted on purpose is reported as a divergence at the next instruction', async (t) => {
  const program = fixture('musl', 'hello');
  const why = missing(program);
  if (why) return t.skip(why);
  const value = new Uint8Array(16).fill(0xa5);
  const r = await run(program, [], { max: 2000, inject: { after: 700, register: 'xmm15', value } });
  assert.ok(r.divergence, 'no divergence reported');
  assert.equal(r.divergence.index, 700);
  assert.deepEqual(r.divergence.registers.map((d) => d.name), ['xmm15']);
  const text = formatSummary(r);
  assert.match(text, /DIVERGENCE after 700 instructions/);
  assert.match(text, /xmm15 .*<</);
  assert.match(text, /0x[0-9a-f]+: [0-9a-f ]+ +\S+/, 'the instruction is disassembled');
});
