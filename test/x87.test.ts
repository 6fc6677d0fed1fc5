/**
 * x87 / fxsave tests with the host CPU as the oracle.
 *
 * test/fixtures/x87-oracle/x87-oracle.c is compiled with gcc at test time.
 * For each case (instruction bytes, control word, initial stack, memory
 * operand) it runs the instruction natively and prints the complete FPU state
 * (fnsave image), the memory buffer, RFLAGS and RAX. The same case then runs
 * through elfshim's decoder tables on a Cpu, and the results are compared bit
 * for bit — except for the transcendental instructions, whose results may
 * differ by 1 ulp (see src/cpu/x87/transcendental.ts).
 *
 * Set X87_CASES=<n> to change the number of random cases per instruction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cpu } from '../src/cpu/cpu.js';
import { Instr } from '../src/cpu/instr.js';
import { AddressSpace } from '../src/mem/address-space.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import { decodeFxsaveGroup, decodeX87, numberToSt80, st80ToNumber, execXsavec } from '../src/cpu/x87/index.js';
import { tagOf } from '../src/cpu/x87/softfloat.js';
import { x87CaseGroups, type Case } from './x87-cases.js';

// ------------------------------------------------------------------ oracle

const SRC = fileURLToPath(new URL('../../test/fixtures/x87-oracle/x87-oracle.c', import.meta.url));
let oracleBin: string | null = null;
let oracleSkip: string | false = false;
{
  const gcc = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (gcc.error || gcc.status !== 0) oracleSkip = 'gcc not found: the x87 oracle tests need gcc to build the host-CPU oracle';
  else if (process.arch !== 'x64') oracleSkip = 'the x87 oracle needs an x86-64 host';
  else {
    const dir = mkdtempSync(join(tmpdir(), 'x87-oracle-'));
    const bin = join(dir, 'x87-oracle');
    const cc = spawnSync('gcc', ['-O1', '-mno-red-zone', '-o', bin, SRC], { encoding: 'utf8' });
    if (cc.status !== 0) oracleSkip = `could not build the x87 oracle: ${cc.stderr}`;
    else oracleBin = bin;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
}


interface Outcome {
  state: Uint8Array;
  mem: Uint8Array;
  flags: number;
  rax: bigint;
}

const hex = (b: Uint8Array | number[]): string => Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
const unhex = (s: string): Uint8Array => {
  if (s === '-') return new Uint8Array(0);
  const out = new Uint8Array(s.length / 2);
  for (let k = 0; k < out.length; k++) out[k] = parseInt(s.substr(2 * k, 2), 16);
  return out;
};

function runOracle(cases: Case[]): Outcome[] {
  const input = cases
    .map((c) => [hex(c.code), c.cw.toString(16), c.flags.toString(16), c.rax.toString(16), c.rdx.toString(16), c.memlen.toString(16), c.mem.length ? hex(c.mem) : '-', ...c.regs.map(hex)].join(' '))
    .join('\n') + '\n';
  const r = spawnSync(oracleBin!, [], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`oracle failed: ${r.status} ${r.signal} ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, cases.length, 'oracle output line count');
  return lines.map((l) => {
    const [st, mem, flags, rax] = l.split(' ');
    return { state: unhex(st), mem: unhex(mem), flags: parseInt(flags, 16), rax: BigInt('0x' + rax) };
  });
}

// ------------------------------------------------------------------ emulator side

const MEM = 0x10000;
const SAVE = 0x20000;
const mem = new AddressSpace(new PhysicalMemory(1 << 24));
mem.mmap(MEM, 0x20000, 3, { fixed: true });
const cpu = new Cpu(mem);

/** Decodes the test's instruction sequence (x87 / 0F AE / 0F C7 with [rdi] or [rdi+disp]). */
function decodeSeq(code: number[]): Instr[] {
  const out: Instr[] = [];
  let k = 0;
  while (k < code.length) {
    const i = new Instr();
    i.addr = 0x400000 + k;
    let rexR = 0, rexB = 0;
    for (;;) {
      const b = code[k];
      if (b === 0x66) {
        i.p66 = true;
        k++;
      } else if ((b & 0xf0) === 0x40) {
        i.rex = true;
        i.rexW = (b & 8) !== 0;
        rexR = (b >> 2) & 1;
        rexB = b & 1;
        k++;
      } else break;
    }
    i.opsize = i.rexW ? 8 : i.p66 ? 2 : 4;
    let op = code[k++];
    if (op === 0x0f) {
      i.map = 0x0f;
      op = code[k++];
    }
    i.op = op;
    const m = code[k++];
    i.mod = m >> 6;
    i.reg = ((m >> 3) & 7) | (rexR << 3);
    if (i.mod === 3) i.rm = (m & 7) | (rexB << 3);
    else {
      assert.equal(m & 7, 7, 'test memory operands must be [rdi]');
      i.isMem = true;
      i.rm = -1;
      i.base = 7 | (rexB << 3);
      if (i.mod === 1) i.disp = (code[k++] << 24) >> 24;
      else if (i.mod === 2) {
        i.disp = code[k] | (code[k + 1] << 8) | (code[k + 2] << 16) | (code[k + 3] << 24);
        k += 4;
      }
    }
    i.len = k - (i.addr - 0x400000);
    i.next = i.addr + i.len;
    let fn;
    if (i.map === 0x0f && op === 0xae) fn = decodeFxsaveGroup(i);
    else if (i.map === 0x0f && op === 0xc7 && i.reg === 4) fn = execXsavec;
    else fn = decodeX87(i);
    if (!fn) throw new Error(`undecodable test instruction ${hex(code)}`);
    i.exec = fn;
    out.push(i);
  }
  return out;
}

const fnsaveInstr = (() => {
  const i = new Instr();
  i.op = 0xdd;
  i.mod = 0;
  i.reg = 6;
  i.isMem = true;
  i.rm = -1;
  i.base = -1;
  i.disp = SAVE;
  i.exec = decodeX87(i)!;
  return i;
})();

function runEmu(cs: Case): Outcome {
  const c = cpu, x = c.x87;
  x.regs.fill(0);
  x.fcw = (cs.cw & 0x1f3f) | 0x40;
  x.fsw = 0;
  x.top = 0;
  x.ftw = 0xffff;
  x.fip = x.fdp = 0;
  x.fop = 0x1d0; // the oracle's fnop
  for (let k = cs.regs.length - 1; k >= 0; k--) {
    const r = cs.regs[k];
    x.top = (x.top - 1) & 7;
    x.regs.set(r, x.top * 10);
    const v = new DataView(r.buffer, r.byteOffset, 10);
    const t = tagOf(v.getUint16(8, true), v.getUint32(4, true), v.getUint32(0, true));
    x.ftw = (x.ftw & ~(3 << (2 * x.top))) | (t << (2 * x.top));
  }
  for (let k = 0; k < 256; k++) c.xmmU8[k] = (k * 7 + 3) & 0xff;
  c.mxcsr = 0x1f80;
  c.r.fill(0);
  c.r[0] = Number(cs.rax & 0xffffffffn) | 0;
  c.r[1] = Number(cs.rax >> 32n) | 0;
  c.r[4] = Number(cs.rdx & 0xffffffffn) | 0;
  c.r[5] = Number(cs.rdx >> 32n) | 0;
  c.r[14] = MEM; // rdi
  c.setEflags(cs.flags);
  const buf = new Uint8Array(4096).fill(0xa5);
  buf.set(cs.mem);
  mem.writeBytes(MEM, buf);
  for (const i of decodeSeq(cs.code)) i.exec(c, i);
  fnsaveInstr.exec(c, fnsaveInstr);
  return {
    state: mem.readBytes(SAVE, 108),
    mem: mem.readBytes(MEM, cs.memlen),
    flags: c.getEflags(),
    rax: (BigInt(c.r[1] >>> 0) << 32n) | BigInt(c.r[0] >>> 0),
  };
}

// ------------------------------------------------------------------ comparison

/** 80-bit value as an ordered integer (for ulp distances; the integer bit is implied by the exponent). */
function ordered(b: Uint8Array, off: number): bigint {
  let m = 0n;
  for (let k = 7; k >= 0; k--) m = (m << 8n) | BigInt(b[off + k]);
  const se = b[off + 8] | (b[off + 9] << 8);
  const v = (BigInt(se & 0x7fff) << 63n) + (m & 0x7fffffffffffffffn);
  return se & 0x8000 ? -v : v;
}

function describe80(b: Uint8Array, off: number): string {
  return `${hex(Array.from(b.subarray(off, off + 10)).reverse())} (${st80ToNumber(b, off)})`;
}

/** Returns a description of the first mismatch, or null. */
function compareOutcome(cs: Case, hw: Outcome, emu: Outcome): string | null {
  const ulps = cs.ulps ?? 0;
  const hwSt = hw.state, emSt = emu.state;
  for (let k = 0; k < 8; k++) {
    const o = 28 + 10 * k;
    let same = true;
    for (let j = 0; j < 10; j++) if (hwSt[o + j] !== emSt[o + j]) same = false;
    if (same) continue;
    const d = ordered(hwSt, o) - ordered(emSt, o);
    if (ulps > 0 && (d < 0n ? -d : d) <= BigInt(ulps)) continue;
    return `ST(${k}): hw ${describe80(hwSt, o)} emu ${describe80(emSt, o)}`;
  }
  const word = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
  // FSW: where an ulp difference is allowed, C1 ("rounded up") is not compared: the
  // hardware's C1 after a transcendental reflects its internal computation.
  const fswMask = ulps > 0 ? ~0x0200 & 0xffff : 0xffff;
  const names = ['FCW', 'pad', 'FSW', 'pad', 'FTW', 'pad'];
  for (let k = 0; k < 6; k++) {
    const o = 2 * k;
    const m = k === 2 ? fswMask : 0xffff;
    if ((word(hwSt, o) & m) !== (word(emSt, o) & m)) return `${names[k]}: hw ${word(hwSt, o).toString(16)} emu ${word(emSt, o).toString(16)}`;
  }
  // FOP (bits 16..26 of the dword at 16). AMD loses FOP across a context switch
  // unless an exception is pending, so a zero FOP from the host is not evidence.
  if ((word(hwSt, 18) & 0x7ff) !== 0 && (word(hwSt, 18) & 0x7ff) !== (word(emSt, 18) & 0x7ff)) return `FOP: hw ${word(hwSt, 18).toString(16)} emu ${word(emSt, 18).toString(16)}`;
  for (let k = 0; k < cs.memlen; k++) {
    if (cs.ignoreMem?.some(([a, b]) => k >= a && k < b)) continue;
    if (hw.mem[k] !== emu.mem[k]) {
      const a = k & ~15;
      return `mem[${k}]: hw ${hex(hw.mem.subarray(a, a + 16))} emu ${hex(emu.mem.subarray(a, a + 16))}`;
    }
  }
  if ((hw.flags & 0x8d5) !== (emu.flags & 0x8d5)) return `flags: hw ${hw.flags.toString(16)} emu ${emu.flags.toString(16)}`;
  if (hw.rax !== emu.rax) return `rax: hw ${hw.rax.toString(16)} emu ${emu.rax.toString(16)}`;
  return null;
}

function describeCase(cs: Case): string {
  return `${cs.label} code=${hex(cs.code)} cw=${cs.cw.toString(16)} flags=${cs.flags.toString(16)} mem=${hex(cs.mem.subarray(0, 16))} regs=[${cs.regs.map((r) => describe80(r, 0)).join(', ')}]`;
}

/** Runs cases on both sides; fails with the first few mismatches. */
function check(cases: Case[]): void {
  const hw = runOracle(cases);
  const failures: string[] = [];
  for (let k = 0; k < cases.length; k++) {
    const emu = runEmu(cases[k]);
    const d = compareOutcome(cases[k], hw[k], emu);
    if (d) failures.push(`${describeCase(cases[k])}\n    → ${d}`);
  }
  if (failures.length) assert.fail(`${failures.length}/${cases.length} mismatches:\n  ${failures.slice(0, 12).join('\n  ')}`);
}

// ------------------------------------------------------------------ oracle tests

for (const { title, cases } of oracleSkip ? [] : x87CaseGroups()) test(title, () => check(cases));
if (oracleSkip) test('x87 against the host CPU', { skip: oracleSkip }, () => {});

// ------------------------------------------------------------------ host-independent tests

test('exactly the undefined x87 encodings decode to null', () => {
  const undefinedReg = (op: number, m: number): boolean => {
    switch (op) {
      case 0xd9: return (m >= 0xd1 && m <= 0xd7) || [0xe2, 0xe3, 0xe6, 0xe7, 0xef].includes(m);
      case 0xda: return m >= 0xe0 && m !== 0xe9;
      case 0xdb: return (m >= 0xe5 && m <= 0xe7) || m >= 0xf8;
      case 0xdd: return m >= 0xf0;
      case 0xde: return m >= 0xd8 && m <= 0xdf && m !== 0xd9;
      case 0xdf: return (m >= 0xe1 && m <= 0xe7) || m >= 0xf8;
      default: return false;
    }
  };
  for (let op = 0xd8; op <= 0xdf; op++) {
    for (let m = 0xc0; m <= 0xff; m++) {
      const i = new Instr();
      i.op = op;
      i.mod = 3;
      i.reg = (m >> 3) & 7;
      i.rm = m & 7;
      assert.equal(decodeX87(i) === null, undefinedReg(op, m), `${op.toString(16)} ${m.toString(16)}`);
    }
    for (let r = 0; r < 8; r++) {
      const i = new Instr();
      i.op = op;
      i.mod = 0;
      i.reg = r;
      i.isMem = true;
      i.rm = -1;
      i.base = 7;
      const undef = (op === 0xd9 && r === 1) || (op === 0xdb && (r === 4 || r === 6)) || (op === 0xdd && r === 5);
      assert.equal(decodeX87(i) === null, undef, `${op.toString(16)} /${r}`);
    }
  }
  const g = new Instr();
  g.op = 0xae;
  g.map = 0x0f;
  g.mod = 0;
  g.isMem = true;
  for (const [r, ok] of [[0, true], [1, true], [2, false], [3, false], [4, true], [5, true], [6, true], [7, false]] as [number, boolean][]) {
    g.reg = r;
    assert.equal(decodeFxsaveGroup(g) !== null, ok, `0f ae /${r}`);
  }
  g.reg = 6;
  g.p66 = true; // clwb
  assert.equal(decodeFxsaveGroup(g), null);
  g.mod = 3;
  g.reg = 0;
  assert.equal(decodeFxsaveGroup(g), null);
});

/** Decodes and runs one instruction on the shared test Cpu (memory operands: [disp] absolute). */
function exec1(bytes: number[], disp = 0): void {
  const i = new Instr();
  i.addr = 0x401000;
  let k = 0;
  if (bytes[k] === 0x66) { i.p66 = true; k++; }
  if ((bytes[k] & 0xf0) === 0x40) { i.rexW = (bytes[k] & 8) !== 0; i.rex = true; k++; }
  if (bytes[k] === 0x0f) { i.map = 0x0f; k++; }
  i.op = bytes[k++];
  const m = bytes[k];
  i.mod = m >> 6;
  i.reg = (m >> 3) & 7;
  if (i.mod === 3) i.rm = m & 7;
  else { i.isMem = true; i.rm = -1; i.base = -1; i.disp = disp; }
  const fn = i.map === 0x0f ? decodeFxsaveGroup(i) : decodeX87(i);
  assert.ok(fn, hex(bytes));
  fn(cpu, i);
}

function resetX87(): void {
  exec1([0xdb, 0xe3]); // fninit
  cpu.x87.regs.fill(0);
}

test('unmasked invalid operation leaves the destination unchanged and sets ES/B', () => {
  resetX87();
  const cw = new Uint8Array([0x7e, 0x03]); // IM clear
  mem.writeBytes(MEM, cw);
  exec1([0xd9, 0x2d], MEM); // fldcw
  exec1([0xd9, 0xe8]); // fld1
  exec1([0xd9, 0xe0]); // fchs → -1
  exec1([0xd9, 0xfa]); // fsqrt(-1): invalid
  const x = cpu.x87;
  assert.equal(x.statusWord & 0x80ff, 0x8081); // B, ES, IE
  assert.equal(st80ToNumber(x.regs, x.top * 10), -1);
  // Masked, the same operation produces the indefinite.
  resetX87();
  exec1([0xd9, 0xe8]);
  exec1([0xd9, 0xe0]);
  exec1([0xd9, 0xfa]);
  assert.equal(cpu.x87.statusWord & 0x80ff, 0x01);
  assert.deepEqual(Array.from(cpu.x87.regs.subarray(cpu.x87.top * 10, cpu.x87.top * 10 + 10)), [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff]);
});

test('FIP, FDP and FOP land in fnstenv, fxsave and fxsave64 images', () => {
  resetX87();
  mem.writeBytes(MEM, new Uint8Array([0, 0, 0, 0, 0, 0, 0xf0, 0x3f])); // 1.0 as a double
  exec1([0xdd, 0x05], MEM); // fld qword [MEM] at 0x401000
  exec1([0xd9, 0x35], MEM + 0x100); // fnstenv
  const env = new DataView(mem.readBytes(MEM + 0x100, 28).buffer);
  assert.equal(env.getUint32(12, true), 0x401000);
  assert.equal(env.getUint16(18, true), 0x505); // DD 05
  assert.equal(env.getUint32(20, true), MEM);
  assert.equal(cpu.x87.fcw & 0x3f, 0x3f);
  cpu.x87.fip = 0x7fff12345678; // a 47-bit address
  exec1([0x48, 0x0f, 0xae, 0x05], MEM + 0x200); // fxsave64
  const img = new DataView(mem.readBytes(MEM + 0x200, 512).buffer);
  assert.equal(img.getUint32(8, true), 0x12345678);
  assert.equal(img.getUint32(12, true), 0x7fff);
  assert.equal(img.getUint32(16, true), MEM);
  assert.equal(img.getUint16(6, true), 0x505);
  assert.equal(img.getUint32(28, true), 0xffff); // MXCSR_MASK
  exec1([0x0f, 0xae, 0x05], MEM + 0x400); // fxsave (32-bit pointers)
  const img32 = new DataView(mem.readBytes(MEM + 0x400, 512).buffer);
  assert.equal(img32.getUint32(8, true), 0x12345678);
  assert.equal(img32.getUint32(12, true), 0);
  // fxrstor64 brings everything back.
  resetX87();
  exec1([0x48, 0x0f, 0xae, 0x0d], MEM + 0x200);
  assert.equal(cpu.x87.fip, 0x7fff12345678);
  assert.equal(cpu.x87.fdp, MEM);
  assert.equal(st80ToNumber(cpu.x87.regs, cpu.x87.top * 10), 1);
  assert.equal(cpu.x87.ftw, 0x3fff);
});

test('xrstor with XSTATE_BV clear initializes the component', () => {
  resetX87();
  exec1([0xd9, 0xeb]); // fldpi
  cpu.xmm[0] = 0x1234;
  cpu.r[0] = 3; // EDX:EAX = 3
  cpu.r[4] = 0;
  const area = MEM + 0x800;
  mem.writeBytes(area, new Uint8Array(576));
  exec1([0x0f, 0xae, 0x2d], area); // xrstor with XSTATE_BV = 0
  assert.equal(cpu.x87.ftw, 0xffff);
  assert.equal(cpu.x87.fcw, 0x37f);
  assert.ok(cpu.x87.regs.every((b) => b === 0));
  assert.equal(cpu.xmm[0], 0);
  assert.equal(cpu.mxcsr, 0); // standard form: MXCSR comes from memory (zeros here)
  // xsave then xrstor round trip
  exec1([0xd9, 0xeb]);
  cpu.xmm[5] = -7;
  cpu.mxcsr = 0x1f80;
  exec1([0x0f, 0xae, 0x25], area); // xsave
  assert.equal(mem.read8(area + 512), 3);
  resetX87();
  cpu.xmm.fill(0);
  exec1([0x0f, 0xae, 0x2d], area);
  assert.equal(st80ToNumber(cpu.x87.regs, cpu.x87.top * 10), Math.PI);
  assert.equal(cpu.xmm[5], -7);
});

test('st80ToNumber / numberToSt80 round trip', () => {
  const b = new Uint8Array(10);
  for (const v of [0, -0, 1, -1.5, Math.PI, 1e-310, -5e-324, 1.7976931348623157e308, Infinity, -Infinity, 2 ** -1022, 123456789.125]) {
    numberToSt80(v, b, 0);
    assert.ok(Object.is(st80ToNumber(b, 0), v), `${v}`);
  }
  numberToSt80(NaN, b, 0);
  assert.ok(Number.isNaN(st80ToNumber(b, 0)));
  // pi in 80 bits
  assert.equal(st80ToNumber(new Uint8Array([0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0x40]), 0), Math.PI);
  // 2^-16400 (an 80-bit denormal) is 0 as a double; the largest 80-bit value is Infinity.
  assert.equal(st80ToNumber(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0x80, 0x01, 0x00]), 0), 0);
  assert.equal(st80ToNumber(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x7f]), 0), Infinity);
});
