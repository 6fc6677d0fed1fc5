/**
 * SSE behaviour the host oracle cannot show from inside one process: faults
 * (alignment #GP, page-crossing stores), implicit-address stores, encodings
 * that must be refused, high registers, and a few MXCSR cases spelled out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu, RDI } from '../src/cpu/cpu.js';
import { Instr } from '../src/cpu/instr.js';
import { AddressSpace } from '../src/mem/address-space.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import { GuestFault } from '../src/mem/fault.js';
import { decodeSse } from '../src/cpu/sse/index.js';

const DATA = 0x20000; // two RW pages, then a read-only page
function setup(): Cpu {
  const mem = new AddressSpace(new PhysicalMemory(1 << 24));
  assert.equal(mem.mmap(DATA, 0x2000, 3, { fixed: true }), DATA);
  assert.equal(mem.mmap(DATA + 0x2000, 0x1000, 1, { fixed: true }), DATA + 0x2000);
  return new Cpu(mem);
}

interface Enc { map?: number; op: number; prefix?: number; reg?: number; rm?: number; mem?: number; imm?: number; rexW?: boolean }
/** A decoded instruction as the main decoder would hand it over; `mem` is an absolute address. */
function instr(e: Enc): Instr {
  const i = new Instr();
  i.map = e.map ?? 0x0f;
  i.op = e.op;
  i.reg = e.reg ?? 0;
  if (e.mem !== undefined) {
    i.isMem = true;
    i.mod = 0;
    i.rm = -1;
    i.disp = e.mem;
  } else {
    i.rm = e.rm ?? 0;
  }
  i.imm = e.imm ?? 0;
  i.rexW = e.rexW ?? false;
  i.p66 = e.prefix === 0x66;
  i.opsize = i.rexW ? 8 : i.p66 ? 2 : 4;
  return i;
}
function run(c: Cpu, e: Enc): void {
  const i = instr(e);
  const f = decodeSse(i, e.prefix ?? 0);
  assert.ok(f, `opcode ${e.op.toString(16)} decodes`);
  f(c, i);
}
function setXmm(c: Cpu, n: number, ...v: number[]): void {
  for (let k = 0; k < 4; k++) c.xmm[4 * n + k] = v[k] ?? 0;
}
function xmm(c: Cpu, n: number): number[] {
  return Array.from(c.xmm.subarray(4 * n, 4 * n + 4));
}
function isProtectionFault(e: unknown): boolean {
  return e instanceof GuestFault && e.kind === 'protection';
}

test('aligned-only forms fault on a misaligned operand and change nothing', () => {
  const c = setup();
  setXmm(c, 1, 1, 2, 3, 4);
  // movaps xmm1, [DATA+8]; movdqa; addps
  for (const [op, prefix] of [[0x28, 0], [0x6f, 0x66], [0x58, 0]]) {
    assert.throws(() => run(c, { op, prefix, reg: 1, mem: DATA + 8 }), isProtectionFault);
    assert.deepEqual(xmm(c, 1), [1, 2, 3, 4]);
  }
  // movaps [DATA+8], xmm1 and movntdq
  assert.throws(() => run(c, { op: 0x29, reg: 1, mem: DATA + 8 }), isProtectionFault);
  assert.throws(() => run(c, { op: 0xe7, prefix: 0x66, reg: 1, mem: DATA + 8 }), isProtectionFault);
  assert.deepEqual(Array.from(c.mem.peek(DATA, 32)!), new Array(32).fill(0));
  // Unaligned forms are fine: movups, movdqu, lddqu, pcmpistri, scalar addss.
  run(c, { op: 0x11, reg: 1, mem: DATA + 3 });
  run(c, { op: 0x10, reg: 2, mem: DATA + 3 });
  assert.deepEqual(xmm(c, 2), [1, 2, 3, 4]);
  run(c, { op: 0x6f, prefix: 0xf3, reg: 3, mem: DATA + 3 });
  run(c, { op: 0xf0, prefix: 0xf2, reg: 4, mem: DATA + 3 });
  assert.deepEqual(xmm(c, 4), [1, 2, 3, 4]);
  run(c, { map: 0x0f3a, op: 0x63, prefix: 0x66, reg: 1, mem: DATA + 3, imm: 0x18 });
  run(c, { op: 0x58, prefix: 0xf3, reg: 1, mem: DATA + 5 });
});

test('a 16-byte store that crosses into a read-only page writes nothing', () => {
  const c = setup();
  setXmm(c, 5, -1, -1, -1, -1);
  const at = DATA + 0x2000 - 8; // last 8 bytes of the writable range
  assert.throws(() => run(c, { op: 0x7f, prefix: 0xf3, reg: 5, mem: at }), (e: unknown) => e instanceof GuestFault);
  assert.deepEqual(Array.from(c.mem.peek(at, 8)!), new Array(8).fill(0));
  // …and one that crosses between two writable pages works.
  run(c, { op: 0x7f, prefix: 0xf3, reg: 5, mem: DATA + 0x1000 - 8 });
  assert.deepEqual(Array.from(c.mem.peek(DATA + 0x1000 - 8, 16)!), new Array(16).fill(0xff));
});

test('maskmovdqu stores the selected bytes at [rdi]', () => {
  const c = setup();
  c.mem.poke(DATA, new Uint8Array(16).fill(0xee));
  setXmm(c, 1, 0x44332211, 0x88776655, 0xccbbaa99, 0x00ffeedd);
  setXmm(c, 2, 0x80000080, 0, 0x00800000, -1);
  c.set64(RDI, DATA, 0);
  run(c, { op: 0xf7, prefix: 0x66, reg: 1, rm: 2 });
  assert.deepEqual(Array.from(c.mem.peek(DATA, 16)!), [0x11, 0xee, 0xee, 0x44, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xbb, 0xee, 0xdd, 0xee, 0xff, 0x00]);
});

test('MMX and undefined encodings are refused (SIGILL)', () => {
  const refused = (e: Enc): void => assert.equal(decodeSse(instr(e), e.prefix ?? 0), null, JSON.stringify(e));
  refused({ op: 0x6f, reg: 1, rm: 2 }); // movq mm, mm/m64
  refused({ op: 0xef, reg: 1, rm: 2 }); // pxor mm
  refused({ op: 0xfe, reg: 1, rm: 2 }); // paddd mm
  refused({ map: 0x0f38, op: 0x00, reg: 1, rm: 2 }); // pshufb mm
  refused({ op: 0x71, prefix: 0x66, reg: 2, mem: DATA, imm: 1 }); // psrlw has no memory form
  refused({ op: 0x71, prefix: 0x66, reg: 3, rm: 1, imm: 1 }); // group 71 /3 is undefined
  refused({ op: 0x12, prefix: 0x66, reg: 1, rm: 2 }); // movlpd needs memory
  refused({ op: 0x13, reg: 1, rm: 2 }); // movlps store needs memory
  refused({ op: 0x2b, reg: 1, rm: 2 }); // movntps needs memory
  refused({ op: 0x5b, prefix: 0xf2, reg: 1, rm: 2 });
  refused({ op: 0xd7, prefix: 0x66, reg: 1, mem: DATA }); // pmovmskb needs a register
  refused({ map: 0x0f38, op: 0xf0, reg: 1, rm: 2 }); // movbe belongs to the main decoder
  refused({ map: 0x0f3a, op: 0x44, prefix: 0x66, reg: 1, rm: 2 }); // pclmulqdq: not implemented
});

test('REX-extended registers xmm8..xmm15', () => {
  const c = setup();
  c.xmmF64[2 * 9] = 1.5; c.xmmF64[2 * 9 + 1] = -2;
  c.xmmF64[2 * 12] = 0.25; c.xmmF64[2 * 12 + 1] = 8;
  run(c, { op: 0x58, prefix: 0x66, reg: 9, rm: 12 }); // addpd xmm9, xmm12
  assert.deepEqual([c.xmmF64[18], c.xmmF64[19]], [1.75, 6]);
  setXmm(c, 15, 7, 8, 9, 10);
  run(c, { op: 0x6f, prefix: 0x66, reg: 0, rm: 15 }); // movdqa xmm0, xmm15
  assert.deepEqual(xmm(c, 0), [7, 8, 9, 10]);
});

test('MXCSR rounding control and exception flags', () => {
  const c = setup();
  const div = (rc: number): number => {
    c.mxcsr = 0x1f80 | (rc << 13);
    c.xmmF64[2] = 1; c.xmmF64[4] = 3;
    run(c, { op: 0x5e, prefix: 0xf2, reg: 1, rm: 2 }); // divsd xmm1, xmm2
    return c.xmmF64[2];
  };
  const near = div(0), down = div(1), up = div(2), zero = div(3);
  assert.equal(near, 1 / 3);
  assert.equal(down, zero);
  assert.ok(up > down && up - down === 2 ** -54, 'round up and down are one ulp apart');
  assert.equal(c.mxcsr & 0x3f, 0x20, 'PE');

  const cvt = (x: number, rc: number, trunc = false): number => {
    c.mxcsr = 0x1f80 | (rc << 13);
    c.xmmF64[4] = x;
    run(c, { op: trunc ? 0x2c : 0x2d, prefix: 0xf2, reg: 0, rm: 2 }); // cvt(t)sd2si eax, xmm2
    return c.r[0];
  };
  assert.deepEqual([cvt(2.5, 0), cvt(2.5, 1), cvt(2.5, 2), cvt(2.5, 3), cvt(-2.5, 0), cvt(3.5, 0)], [2, 2, 3, 2, -2, 4]);
  assert.equal(cvt(2.9, 0, true), 2);
  assert.equal(cvt(NaN, 0) >>> 0, 0x80000000);
  assert.equal(c.mxcsr & 1, 1, 'IE for NaN');
  assert.equal(cvt(2147483648, 0) >>> 0, 0x80000000);

  c.mxcsr = 0x1f80;
  c.xmmF64[2] = 1; c.xmmF64[4] = 0;
  run(c, { op: 0x5e, prefix: 0xf2, reg: 1, rm: 2 });
  assert.equal(c.xmmF64[2], Infinity);
  assert.equal(c.mxcsr & 0x3f, 0x04, 'ZE only');

  c.mxcsr = 0x1f80;
  c.xmmF64[4] = -1;
  run(c, { op: 0x51, prefix: 0xf2, reg: 1, rm: 2 }); // sqrtsd
  assert.deepEqual([c.xmm[4] >>> 0, c.xmm[5] >>> 0], [0, 0xfff80000], 'default NaN');
  assert.equal(c.mxcsr & 0x3f, 0x01, 'IE');

  // FTZ flushes an underflowing product to zero; DAZ reads a denormal operand as zero.
  c.mxcsr = 0x9f80;
  c.xmmF64[2] = 2 ** -600; c.xmmF64[4] = 2 ** -600;
  run(c, { op: 0x59, prefix: 0xf2, reg: 1, rm: 2 });
  assert.equal(c.xmmF64[2], 0);
  assert.equal(c.mxcsr & 0x30, 0x30, 'UE and PE');
  c.mxcsr = 0x1fc0;
  c.xmmF64[2] = 1; c.xmmF64[4] = 2 ** -1070;
  run(c, { op: 0x58, prefix: 0xf2, reg: 1, rm: 2 });
  assert.equal(c.xmmF64[2], 1);
  assert.equal(c.mxcsr & 0x3f, 0, 'no DE under DAZ, exact');
});

test('ptest and ucomisd set EFLAGS', () => {
  const c = setup();
  setXmm(c, 1, 0xf0, 0, 0, 0);
  setXmm(c, 2, 0x0f, 0, 0, 0);
  run(c, { map: 0x0f38, op: 0x17, prefix: 0x66, reg: 1, rm: 2 });
  assert.equal(c.getEflags() & 0x8d5, 0x40, 'ZF only');
  c.xmmF64[2] = NaN; c.xmmF64[4] = 1;
  run(c, { op: 0x2e, prefix: 0x66, reg: 1, rm: 2 });
  assert.equal(c.getEflags() & 0x8d5, 0x45, 'unordered: ZF PF CF');
  assert.ok(c.cond(0xa), 'jp taken');
});
