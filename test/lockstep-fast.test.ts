/**
 * The fast lockstep transport (src/lockstep/fast/): its register encodings
 * agree with the reference ones, and it reports divergences — a register
 * corrupted on purpose at the next instruction, a memory byte corrupted on
 * purpose at the end of its batch with the instruction that wrote it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Cpu } from '../src/cpu/cpu.js';
import { AddressSpace } from '../src/mem/address-space.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import { readAllRegisters } from '../src/gdb/registers.js';
import { emulatorRegisterBlock } from '../src/lockstep/fast/emulator-registers.js';
import { EMU_LAYOUT, nativeRegisterBlock } from '../src/lockstep/fast/native-registers.js';
import { RegisterComparator } from '../src/lockstep/fast/register-compare.js';
import { runFastLockstep } from '../src/lockstep/fast/fast-differ.js';
import { formatSummary } from '../src/lockstep/report.js';
import { Registers } from '../src/lockstep/side.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TRACER = `${ROOT}/test/fixtures/build/tools/lockstep-tracer`;
const HELLO = `${ROOT}/test/fixtures/build/musl/hello`;

test('emulatorRegisterBlock is the gdb stub\'s g block, byte for byte, over varied states', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
  for (let k = 0; k < 200; k++) {
    const c = new Cpu(new AddressSpace(new PhysicalMemory(1 << 20)));
    for (let j = 0; j < 32; j++) c.r[j] = rnd() - (rnd() & 1 ? 0x40000000 : 0);
    c.rip = rnd() * 4096 + rnd() % 4096;
    c.setEflags(rnd() & 0xcd5);
    c.x87.top = rnd() & 7;
    c.x87.ftw = rnd() & 0xffff;
    c.x87.fsw = rnd() & 0xc7ff;
    c.x87.fcw = 0x37f ^ (rnd() & 0xf00);
    c.x87.fip = rnd() * 65536 + (rnd() & 0xffff);
    c.x87.fdp = rnd();
    c.x87.fop = rnd() & 0x7ff;
    for (let j = 0; j < 80; j++) c.x87.regs[j] = rnd() & 0xff;
    for (let j = 0; j < 64; j++) c.xmm[j] = rnd() ^ (rnd() << 1);
    c.mxcsr = 0x1f80 ^ (rnd() & 0x7f);
    c.origRax = k % 3 === 0 ? -1 : rnd();
    c.fsBase = rnd() * 4096;
    c.gsBase = k % 2 ? 0 : rnd();
    assert.deepEqual(emulatorRegisterBlock(c), readAllRegisters(c), `state ${k}`);
  }
});

test('native registers: user_regs_struct and fxsave map to the layout; the tag word is widened like gdb does', () => {
  const user = new Uint8Array(216), fp = new Uint8Array(512);
  const u = new DataView(user.buffer), f = new DataView(fp.buffer);
  u.setBigUint64(80, 0x1122334455667788n, true); // rax
  u.setBigUint64(128, 0x401000n, true); // rip
  u.setBigUint64(144, 0x246n, true); // eflags
  u.setBigUint64(168, 0x7ffff7ff8740n, true); // fs_base
  f.setUint16(0, 0x37f, true);
  f.setUint16(2, 6 << 11, true); // TOP = 6
  fp[4] = 0b11000000; // physical 6 and 7 in use
  // ST(0) = physical 6 = 1.0 (valid), ST(1) = physical 7 = +0 (zero).
  fp.set([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f], 32);
  f.setUint32(24, 0x1f80, true);
  f.setUint32(160 + 16 * 3, 0xdeadbeef, true); // xmm3
  const r = new Registers(EMU_LAYOUT, nativeRegisterBlock(user, fp));
  assert.equal(r.big('rax'), 0x1122334455667788n);
  assert.equal(r.num('rip'), 0x401000);
  assert.equal(r.num('eflags'), 0x246);
  assert.equal(r.num('fs_base'), 0x7ffff7ff8740);
  assert.equal(r.num('fstat'), 6 << 11);
  // Physical 0-5 empty (3), 6 valid (0), 7 zero (1): 0b01_00_11_11_11_11_11_11.
  assert.equal(r.num('ftag'), 0x4fff);
  assert.deepEqual([...r.raw('st0')], [0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f]);
  assert.equal(r.num('mxcsr'), 0x1f80);
  assert.equal(new DataView(r.raw('xmm3').slice().buffer).getUint32(0, true), 0xdeadbeef);
});

test('the register comparator masks eflags and the x87 status word, and sees any other byte', () => {
  const names = ['rax', 'rip', 'eflags', 'xmm15', 'st3', 'fstat', 'mxcsr'];
  const cmp = new RegisterComparator(names);
  const a = new Uint8Array(560), b = new Uint8Array(560);
  assert.ok(cmp.same(a, b, 0xffff, 0xffff));
  for (const name of names) {
    const s = EMU_LAYOUT.get(name)!;
    for (const at of [s.offset, s.offset + s.size - 1]) {
      b.fill(0);
      b[at] = 1;
      const masked = name === 'eflags' || name === 'fstat';
      assert.equal(cmp.same(a, b, masked ? ~1 : -1, masked ? ~1 : -1), masked && at === s.offset, `${name} byte ${at - s.offset}`);
    }
  }
  b.fill(0);
  b[EMU_LAYOUT.get('orig_rax')!.offset] = 1; // not compared
  assert.ok(cmp.same(a, b, 0xffff, 0xffff));
});

const skip = !existsSync(TRACER) ? 'lockstep-tracer not built (scripts/build-fixtures.sh)' : !existsSync(HELLO) ? 'fixtures not built' : false;

test('a register corrupted on purpose is reported at the next instruction', { skip }, async () => {
  const r = await runFastLockstep({ program: HELLO, args: [], env: {}, tracer: TRACER, max: 3000, inject: { after: 700, register: 'r13', value: new Uint8Array(8).fill(0x5a) } });
  assert.ok(r.divergence, 'no divergence reported');
  assert.equal(r.divergence.index, 700);
  assert.deepEqual(r.divergence.registers.map((d) => d.name), ['r13']);
  assert.match(formatSummary(r), /DIVERGENCE after 700 instructions/);
});

test('a memory byte corrupted on purpose is reported at the end of its batch, naming the instruction that wrote it', { skip }, async () => {
  // Whether the corrupted byte is read back into a register before its batch ends depends on the
  // instruction flow (and so on the program's path and environment): then that register is what is
  // reported. Some of these injection points must show the memory check itself.
  const seen: string[] = [];
  for (const after of [500, 600, 700, 800, 1200]) {
    const r = await runFastLockstep({ program: HELLO, args: [], env: {}, tracer: TRACER, max: 3000, batch: 256, inject: { after, memory: true } });
    seen.push(`${after}: ${r.divergence?.reason ?? 'none'}`);
    if (!r.divergence || !r.divergence.reason.startsWith('memory')) continue;
    assert.match(r.divergence.reason, /^memory at 0x[0-9a-f]+ differs at the end of the batch; last written by the instruction at 0x[0-9a-f]+ \(instruction #\d+/);
    assert.ok(r.divergence.index < after && r.divergence.index >= after - 256, `index ${r.divergence.index} for a byte written after ${after}`);
    assert.ok(r.divergence.memory);
    return;
  }
  assert.fail(`no injection point was reported as a memory divergence:\n${seen.join('\n')}`);
});

test('musl hello runs to its exit with no divergence, its output equal', { skip }, async (t) => {
  const r = await runFastLockstep({ program: HELLO, args: ['a', 'b c'], env: { K: 'v' }, tracer: TRACER });
  t.diagnostic(formatSummary(r).split('\n').pop() ?? '');
  assert.equal(r.divergence, null, formatSummary(r));
  assert.match(r.end, /exited with status 0/);
  assert.ok(r.compared > 10000);
  assert.equal(r.elfshimOutput, r.nativeOutput);
  assert.match(r.nativeOutput, /b c/);
});

const THREADS = `${ROOT}/test/fixtures/build/musl/threads`;

test('a register corrupted on purpose in a created thread is reported there, while the other threads wait', { skip: skip || (!existsSync(THREADS) && 'threads not built') }, async (t) => {
  // Run from a path of the same length in every checkout: argv[0] shifts the initial stack, and with it how
  // many instructions each thread runs, so where a fixed injection point lands. From a checkout one byte
  // longer, the one at 5000 fell just before `xchg %r13d, 4(%rbx)` in pthread_mutex_unlock, which swapped the
  // corrupted value into the lock word: r13 itself was right again, and the lock word showed 30 instructions on.
  const dir = mkdtempSync('/tmp/lockstep-thr-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const program = `${dir}/threads`;
  copyFileSync(THREADS, program);
  // A clean run first: every thread followed, to the end.
  const clean = await runFastLockstep({ program, args: ['10'], env: {}, tracer: TRACER });
  assert.equal(clean.divergence, null, formatSummary(clean));
  assert.ok(clean.threads && clean.threads.length === 7, 'six threads and the forked child followed');
  assert.ok((clean.switches ?? 0) >= 5, 'switches between threads');
  // The schedule is deterministic: after main's first run (to its first join) and the waiter's, the four workers
  // run whole one after the other. Of these injection points some fall into a created thread; each is reported at
  // its instruction, in the thread that ran it.
  const threadsSeen = new Set<number>();
  for (const after of [1000, 4000, 5000, 6000]) {
    const r = await runFastLockstep({ program, args: ['10'], env: {}, tracer: TRACER, inject: { after, register: 'r13', value: new Uint8Array(8).fill(0x5a) } });
    assert.ok(r.divergence, `no divergence reported for the register corrupted after ${after}`);
    assert.equal(r.divergence.index, after);
    assert.deepEqual(r.divergence.registers.map((d) => d.name), ['r13']);
    assert.ok(r.thread !== undefined);
    if (r.threads) assert.match(formatSummary(r), new RegExp(`before the divergence \\(in thread ${r.thread}\\)`));
    threadsSeen.add(r.threads ? r.threads.findIndex((t) => t.tid === r.thread) : 0);
  }
  assert.ok(threadsSeen.has(0), 'a divergence in the main thread');
  assert.ok([...threadsSeen].some((i) => i >= 2), `a divergence in a worker thread (threads: ${[...threadsSeen]})`);
});

const SYSMISC = `${ROOT}/test/fixtures/build/musl/sysmisc`;

test('forked children are followed: a register or memory byte corrupted on purpose in a child is reported in that child', { skip: skip || (!existsSync(SYSMISC) && 'sysmisc not built') }, async (t) => {
  // groups: a child in its own process group that the parent kills through the group, then a child that starts a
  // session and a grandchild, which it kills with kill(0): three processes besides the parent, each compared.
  const clean = await runFastLockstep({ program: SYSMISC, args: ['groups'], env: {}, tracer: TRACER });
  t.diagnostic(formatSummary(clean).split('\n').pop() ?? '');
  assert.equal(clean.divergence, null, formatSummary(clean));
  assert.match(clean.end, /exited with status 0/);
  assert.equal(clean.elfshimOutput, clean.nativeOutput);
  assert.match(clean.nativeOutput, /child killed by signal 15/);
  assert.match(clean.nativeOutput, /session child: 111/);
  assert.equal(clean.threads?.length, 4, 'the parent, two children and a grandchild');
  for (const th of clean.threads!) assert.ok(th.compared > 100, `process ${th.tid} compared ${th.compared} instructions`);
  // The session child (creation index 2): its 100th instruction, then its register r13 is corrupted.
  const reg = await runFastLockstep({ program: SYSMISC, args: ['groups'], env: {}, tracer: TRACER, inject: { thread: 2, after: 100, register: 'r13', value: new Uint8Array(8).fill(0x5a) } });
  assert.ok(reg.divergence, 'no divergence reported for the register corrupted in the child');
  assert.deepEqual(reg.divergence.registers.map((d) => d.name), ['r13']);
  assert.equal(reg.thread, clean.threads![2].tid);
  assert.match(formatSummary(reg), new RegExp(`before the divergence \\(in thread ${clean.threads![2].tid}\\)`));
  // A byte the child wrote last, flipped: seen at the end of the batch (or in the register that reads it back),
  // in the child's own memory.
  const seen: string[] = [];
  for (const after of [60, 120, 180, 240]) {
    const r = await runFastLockstep({ program: SYSMISC, args: ['groups'], env: {}, tracer: TRACER, batch: 64, inject: { thread: 2, after, memory: true } });
    seen.push(`${after}: ${r.divergence?.reason ?? 'none'}`);
    assert.ok(r.divergence, `no divergence reported for the byte corrupted in the child after ${after}`);
    assert.equal(r.thread, clean.threads![2].tid, `reported in thread ${r.thread}`);
    if (r.divergence.reason.startsWith('memory')) return;
  }
  assert.fail(`no injection point in the child was reported as a memory divergence:\n${seen.join('\n')}`);
});
