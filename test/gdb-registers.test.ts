import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu } from '../src/cpu/cpu.js';
import { AddressSpace } from '../src/mem/address-space.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import {
  REGISTERS,
  REGISTER_BLOCK_SIZE,
  REGNUM,
  readAllRegisters,
  readRegister,
  writeAllRegisters,
  writeRegister,
} from '../src/gdb/registers.js';
import { TARGET_XML } from '../src/gdb/target-xml.js';

function newCpu(): Cpu {
  return new Cpu(new AddressSpace(new PhysicalMemory(1 << 20)));
}
const u64le = (v: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
};
const readBig = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);

test('layout: 60 registers in gdb order, 560 bytes', () => {
  assert.equal(REGISTERS.length, 60);
  assert.equal(REGISTER_BLOCK_SIZE, 560);
  const names = REGISTERS.map((r) => r.name);
  assert.deepEqual(names.slice(0, 18), ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'eflags']);
  assert.equal(REGNUM.st0, 24);
  assert.equal(REGNUM.fop, 39);
  assert.equal(REGNUM.xmm0, 40);
  assert.equal(REGNUM.mxcsr, 56);
  assert.equal(REGNUM.orig_rax, 57);
  assert.equal(REGNUM.fs_base, 58);
  assert.equal(REGNUM.gs_base, 59);
  assert.equal(REGISTERS[REGNUM.xmm0].offset, 16 * 8 + 8 + 4 + 6 * 4 + 8 * 10 + 8 * 4);
});

test('general registers map gdb numbers to the encoding order', () => {
  const c = newCpu();
  // Encoding order: rax rcx rdx rbx rsp rbp rsi rdi.
  for (let enc = 0; enc < 16; enc++) c.setBig(enc, 0x1111111100000000n + BigInt(enc));
  const expectEnc = [0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15];
  for (let n = 0; n < 16; n++) assert.equal(readBig(readRegister(c, n)!), 0x1111111100000000n + BigInt(expectEnc[n]), REGISTERS[n].name);
  assert.ok(writeRegister(c, REGNUM.rsp, u64le(0x7fffffffe000n)));
  assert.equal(c.rsp, 0x7fffffffe000);
  assert.ok(writeRegister(c, REGNUM.rbx, u64le(-2n)));
  assert.equal(c.getBig(3), 0xfffffffffffffffen);
});

test('rip, eflags, segments, bases, orig_rax', () => {
  const c = newCpu();
  c.rip = 0x555555555129;
  c.setEflags(0x246);
  c.fsBase = 0x7ffff7d8a740;
  c.origRax = -1;
  assert.equal(readBig(readRegister(c, REGNUM.rip)!), 0x555555555129n);
  assert.deepEqual(readRegister(c, REGNUM.eflags), Uint8Array.from([0x46, 0x02, 0, 0]));
  assert.deepEqual(readRegister(c, REGNUM.cs), Uint8Array.from([0x33, 0, 0, 0]));
  assert.deepEqual(readRegister(c, REGNUM.ss), Uint8Array.from([0x2b, 0, 0, 0]));
  assert.deepEqual(readRegister(c, REGNUM.ds), Uint8Array.from([0, 0, 0, 0]));
  assert.equal(readBig(readRegister(c, REGNUM.fs_base)!), 0x7ffff7d8a740n);
  assert.equal(readBig(readRegister(c, REGNUM.orig_rax)!), 0xffffffffffffffffn);

  assert.ok(writeRegister(c, REGNUM.rip, u64le(0x401000n)));
  assert.equal(c.rip, 0x401000);
  assert.ok(writeRegister(c, REGNUM.eflags, Uint8Array.from([0x01, 0x01, 0, 0]))); // CF | TF
  assert.equal(c.getCF(), 1);
  assert.equal(c.getEflags() & 0x100, 0x100);
  c.origRax = 60;
  assert.ok(writeRegister(c, REGNUM.orig_rax, u64le(-1n)));
  assert.equal(c.origRax, -1);
  assert.ok(writeRegister(c, REGNUM.gs_base, u64le(0x1000n)));
  assert.equal(c.gsBase, 0x1000);
  assert.ok(!writeRegister(c, REGNUM.rip, Uint8Array.of(1, 2)));
  assert.ok(!writeRegister(c, 60, u64le(0n)));
  assert.equal(readRegister(c, 60), null);
});

test('x87: st(i) follows TOP, fstat carries TOP, ftag is the full tag word, pointers split', () => {
  const c = newCpu();
  const x = c.x87;
  x.top = 6;
  // 1.5 in physical R6 (= st0), 2.0 in R7 (= st1).
  const one5 = [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0x3f];
  const two = [0, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 0x40];
  x.regs.set(one5, 60);
  x.regs.set(two, 70);
  x.ftw = 0x0fff;
  x.fip = 0x1234_5678_9abc;
  x.fop = 0x7ff;
  assert.deepEqual([...readRegister(c, REGNUM.st0)!], one5);
  assert.deepEqual([...readRegister(c, REGNUM.st1)!], two);
  assert.deepEqual(readRegister(c, REGNUM.fstat), Uint8Array.from([0x00, 0x30, 0, 0])); // TOP=6 in bits 11-13
  assert.deepEqual(readRegister(c, REGNUM.ftag), Uint8Array.from([0xff, 0x0f, 0, 0]));
  assert.deepEqual(readRegister(c, REGNUM.fctrl), Uint8Array.from([0x7f, 0x03, 0, 0]));
  assert.deepEqual(readRegister(c, REGNUM.fioff), Uint8Array.from([0xbc, 0x9a, 0x78, 0x56]));
  assert.deepEqual(readRegister(c, REGNUM.fiseg), Uint8Array.from([0x34, 0x12, 0, 0]));
  assert.ok(writeRegister(c, REGNUM.st1, Uint8Array.from(one5)));
  assert.deepEqual([...x.regs.subarray(70, 80)], one5);
  assert.ok(writeRegister(c, REGNUM.fstat, Uint8Array.from([0x00, 0x38, 0, 0])));
  assert.equal(x.top, 7);
  assert.ok(writeRegister(c, REGNUM.fioff, Uint8Array.from([1, 0, 0, 0])));
  assert.equal(x.fip, 0x1234_0000_0001);
});

test('xmm and mxcsr', () => {
  const c = newCpu();
  c.xmm.set([1, 2, 3, 4], 4 * 15);
  assert.deepEqual(readRegister(c, REGNUM.xmm15), Uint8Array.from([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0]));
  assert.deepEqual(readRegister(c, REGNUM.mxcsr), Uint8Array.from([0x80, 0x1f, 0, 0]));
  assert.ok(writeRegister(c, REGNUM.xmm1, new Uint8Array(16).fill(0xaa)));
  assert.equal(c.xmm[4] >>> 0, 0xaaaaaaaa);
});

test('g/G round trip, and G changes TOP before placing st registers', () => {
  const c = newCpu();
  for (let n = 0; n < 16; n++) c.setBig(n, BigInt(n) * 0x0101010101n);
  c.rip = 0x401234;
  c.xmm.fill(7);
  c.x87.regs.fill(3);
  const block = readAllRegisters(c);
  assert.equal(block.length, 560);
  const d = newCpu();
  assert.ok(writeAllRegisters(d, block));
  assert.deepEqual(readAllRegisters(d), block);
  assert.equal(d.rip, 0x401234);

  const moved = block.slice();
  const v = new DataView(moved.buffer);
  v.setUint16(REGISTERS[REGNUM.fstat].offset, 5 << 11, true);
  moved.fill(0x11, REGISTERS[REGNUM.st0].offset, REGISTERS[REGNUM.st0].offset + 10);
  assert.ok(writeAllRegisters(d, moved));
  assert.equal(d.x87.top, 5);
  assert.deepEqual([...d.x87.regs.subarray(50, 60)], new Array(10).fill(0x11));
  assert.ok(!writeAllRegisters(d, block.subarray(1)));
});

test('target.xml describes the same registers', () => {
  assert.match(TARGET_XML, /<architecture>i386:x86-64<\/architecture>/);
  assert.match(TARGET_XML, /<osabi>GNU\/Linux<\/osabi>/);
  for (const f of ['core', 'sse', 'linux', 'segments']) assert.match(TARGET_XML, new RegExp(`<feature name="org.gnu.gdb.i386.${f}">`));
  const regs = [...TARGET_XML.matchAll(/<reg name="([^"]+)" bitsize="(\d+)" type="[^"]+" regnum="(\d+)"/g)];
  assert.equal(regs.length, 60);
  regs.forEach((m, i) => {
    assert.equal(m[1], REGISTERS[i].name);
    assert.equal(Number(m[2]), REGISTERS[i].size * 8);
    assert.equal(Number(m[3]), i);
  });
  assert.match(TARGET_XML, /<reg name="orig_rax" bitsize="64" type="int" regnum="57"\/>/);
});
