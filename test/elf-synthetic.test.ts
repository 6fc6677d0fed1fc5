/// <reference types="node" />
// Hand-built ELF images: every malformation the parser must refuse (with its one-line reason),
// and the loading rules that real toolchains rarely exercise (bss tails, alignment, exec stack,
// interpreter failures, undo on failure).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressSpace } from '../src/mem/address-space.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import { GuestFault, PROT_EXEC, PROT_READ, PROT_WRITE } from '../src/mem/fault.js';
import { decodeAuxv, ElfError, loadProgram, parseElf, vdsoLayoutFromMaps, type LoadOptions } from '../src/elf/index.js';

interface Seg {
  type?: number;
  flags: number;
  vaddr: number;
  offset: number;
  filesz: number;
  memsz?: number;
  align?: number;
}

interface Spec {
  type?: number;
  machine?: number;
  entry?: number;
  segs: Seg[];
  interp?: string | Uint8Array;
  size?: number;
}

const R = 4, W = 2, X = 1;
const PT_LOAD = 1, PT_INTERP = 3, PT_GNU_STACK = 0x6474e551;

/**
 * An ELF64 image: header, program headers at 64, the interp string (if any) at 0x800,
 * and every other byte 0xcc so that "zero after filesz" is observable. Segment contents
 * are left as the file bytes at their offsets.
 */
function buildElf(spec: Spec): Uint8Array {
  const segs = [...spec.segs];
  let interpBytes: Uint8Array | null = null;
  if (spec.interp !== undefined) {
    interpBytes = typeof spec.interp === 'string' ? new TextEncoder().encode(spec.interp + '\0') : spec.interp;
    segs.unshift({ type: PT_INTERP, flags: R, vaddr: 0x800, offset: 0x800, filesz: interpBytes.length, memsz: interpBytes.length, align: 1 });
  }
  const end = Math.max(0x1000, ...segs.filter((s) => s.offset + s.filesz < 2 ** 40).map((s) => s.offset + s.filesz));
  const img = new Uint8Array(spec.size ?? end).fill(0xcc);
  const v = new DataView(img.buffer);
  const u64 = (o: number, n: number) => v.setBigUint64(o, BigInt(n), true);
  img.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  v.setUint16(16, spec.type ?? 2, true);
  v.setUint16(18, spec.machine ?? 62, true);
  v.setUint32(20, 1, true);
  u64(24, spec.entry ?? 0x401000);
  u64(32, 64);
  u64(40, 0);
  v.setUint32(48, 0, true);
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, segs.length, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, 0, true);
  v.setUint16(62, 0, true);
  segs.forEach((s, k) => {
    const o = 64 + 56 * k;
    v.setUint32(o, s.type ?? PT_LOAD, true);
    v.setUint32(o + 4, s.flags, true);
    u64(o + 8, s.offset);
    u64(o + 16, s.vaddr);
    u64(o + 24, s.vaddr);
    u64(o + 32, s.filesz);
    u64(o + 40, s.memsz ?? s.filesz);
    u64(o + 48, s.align ?? 0x1000);
  });
  if (interpBytes && 0x800 + interpBytes.length <= img.length) img.set(interpBytes, 0x800);
  return img;
}

/** A plain static ET_EXEC: headers (R), text (RX), data+bss (RW) spanning three pages. */
const STATIC: Spec = {
  segs: [
    { flags: R, vaddr: 0x400000, offset: 0, filesz: 0x200 },
    { flags: R | X, vaddr: 0x401000, offset: 0x1000, filesz: 0x100 },
    { flags: R | W, vaddr: 0x402100, offset: 0x2100, filesz: 0x80, memsz: 0x3000 },
  ],
  size: 0x3000,
};

const newMem = () => new AddressSpace(new PhysicalMemory(1 << 26));

function opts(mem: AddressSpace, image: Uint8Array, over: Partial<LoadOptions> = {}): LoadOptions {
  return {
    mem, image, path: '/prog', argv: ['/prog'], envp: [], random16: new Uint8Array(16),
    hwcap: 0x178bfbff, hwcap2: 0, uid: 1000, gid: 1000,
    readInterp: () => null,
    ...over,
  };
}

/** Asserts that f throws an ElfError whose message matches, is one line, and carries errno. */
function throwsElf(f: () => unknown, message: RegExp | string, errno = 8): ElfError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ElfError, `expected ElfError, got ${String(caught)}`);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else assert.match(caught.message, message);
  assert.ok(!/[\r\n]/.test(caught.message), 'one line');
  assert.equal(caught.errno, errno);
  return caught;
}

function patch(image: Uint8Array, f: (v: DataView) => void): Uint8Array {
  const copy = image.slice();
  f(new DataView(copy.buffer));
  return copy;
}

const PH = (k: number) => 64 + 56 * k;

describe('parseElf: malformed images', () => {
  const good = buildElf(STATIC);

  test('the reference image parses', () => {
    const e = parseElf(good);
    assert.equal(e.loads.length, 3);
    assert.equal(e.interp, null);
  });

  test('not an ELF', () => {
    throwsElf(() => parseElf(new Uint8Array(0)), 'not an ELF executable (bad magic)');
    throwsElf(() => parseElf(new TextEncoder().encode('#!/bin/sh\necho hi\n')), /bad magic/);
    const garbage = new Uint8Array(4096).map((_, k) => (k * 131 + 7) & 0xff);
    throwsElf(() => parseElf(garbage), /bad magic/);
  });

  test('truncated header', () => {
    throwsElf(() => parseElf(good.subarray(0, 10)), /truncated ELF header/);
    throwsElf(() => parseElf(good.subarray(0, 63)), 'truncated ELF header (63 of 64 bytes)');
  });

  test('32-bit ELF (crafted)', () => {
    const img = patch(good, (v) => v.setUint8(4, 1));
    throwsElf(() => parseElf(img), 'wrong class: 32-bit ELF, only x86-64 ELF64 is supported');
    throwsElf(() => parseElf(img.subarray(0, 52)), 'wrong class: 32-bit ELF, only x86-64 ELF64 is supported');
    throwsElf(() => parseElf(patch(good, (v) => v.setUint8(4, 7))), 'invalid ELF class 7');
  });

  test('32-bit ELF (gcc -m32, when the toolchain has it)', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'elfshim-elf-m32-'));
    try {
      writeFileSync(join(dir, 'a.c'), 'int main(void) { return 0; }\n');
      const r = spawnSync('gcc', ['-m32', '-o', join(dir, 'a'), join(dir, 'a.c')]);
      if (r.status !== 0) return t.skip('gcc -m32 cannot link here');
      throwsElf(() => parseElf(readFileSync(join(dir, 'a'))), 'wrong class: 32-bit ELF, only x86-64 ELF64 is supported');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('big-endian', () => {
    throwsElf(() => parseElf(patch(good, (v) => v.setUint8(5, 2))), 'big-endian ELF, only little-endian x86-64 is supported');
  });

  test('wrong machine is named', () => {
    throwsElf(() => parseElf(buildElf({ ...STATIC, machine: 183 })), 'wrong machine: AArch64, only x86-64 is supported');
    throwsElf(() => parseElf(buildElf({ ...STATIC, machine: 3 })), 'wrong machine: Intel 80386, only x86-64 is supported');
    throwsElf(() => parseElf(buildElf({ ...STATIC, machine: 243 })), /RISC-V/);
    throwsElf(() => parseElf(buildElf({ ...STATIC, machine: 9999 })), 'wrong machine: machine 9999, only x86-64 is supported');
  });

  test('not an executable type', () => {
    throwsElf(() => parseElf(buildElf({ ...STATIC, type: 1 })), 'not an executable: relocatable object (ET_REL)');
    throwsElf(() => parseElf(buildElf({ ...STATIC, type: 4 })), 'not an executable: core dump (ET_CORE)');
    throwsElf(() => parseElf(buildElf({ ...STATIC, type: 0xfe00 })), 'not an executable: ELF type 65024');
  });

  test('program header table problems', () => {
    throwsElf(() => parseElf(patch(good, (v) => v.setUint16(54, 32, true))), 'bad program header entry size 32 (expected 56)');
    throwsElf(() => parseElf(patch(good, (v) => v.setUint16(56, 0, true))), 'no program headers');
    throwsElf(() => parseElf(patch(good, (v) => v.setUint16(56, 0xffff, true))), 'too many program headers (65535)');
    throwsElf(() => parseElf(patch(good, (v) => v.setBigUint64(32, 0x10000n, true))), /^truncated program headers/);
    throwsElf(() => parseElf(patch(good, (v) => v.setBigUint64(32, 0xffffffffffffff00n, true))), /truncated program headers \(3 at offset 0xffffffffffffff00/);
    throwsElf(() => parseElf(good.subarray(0, 64 + 56 + 20)), /^truncated program headers/);
  });

  test('no PT_LOAD', () => {
    const img = patch(good, (v) => [0, 1, 2].forEach((k) => v.setUint32(PH(k), 4, true)));
    throwsElf(() => parseElf(img), 'no loadable segments (PT_LOAD)');
  });

  test('segment outside the file', () => {
    const img = buildElf({ ...STATIC, segs: [...STATIC.segs.slice(0, 2), { flags: R | W, vaddr: 0x402100, offset: 0x2100, filesz: 0x80 }], size: 0x2150 });
    throwsElf(() => parseElf(img), 'segment 2: file range 0x2100-0x2180 extends past end of file (8528 bytes)');
    throwsElf(() => parseElf(patch(good, (v) => v.setBigUint64(PH(1) + 8, 0xfffffffffffff000n, true))), /segment 1: file range 0xfffffffffffff000-0xfffffffffffff100 extends past end of file/);
  });

  test('p_filesz > p_memsz', () => {
    const img = patch(good, (v) => v.setBigUint64(PH(1) + 40, 0x80n, true));
    throwsElf(() => parseElf(img), 'segment 1: file size 0x100 exceeds memory size 0x80');
  });

  test('overlapping and out-of-order PT_LOADs', () => {
    const overlap = buildElf({ ...STATIC, segs: [STATIC.segs[0], { flags: R | X, vaddr: 0x400100, offset: 0x100, filesz: 0x100 }] });
    throwsElf(() => parseElf(overlap), 'PT_LOAD segments 0 and 1 overlap at 0x400100');
    const reversed = buildElf({ ...STATIC, segs: [STATIC.segs[1], STATIC.segs[0]] });
    throwsElf(() => parseElf(reversed), 'PT_LOAD segments not in ascending order (segment 1 at 0x400000 follows 0x401000)');
  });

  test('misaligned segment', () => {
    const img = patch(good, (v) => v.setBigUint64(PH(1) + 8, 0x1010n, true));
    throwsElf(() => parseElf(img), 'segment 1: misaligned (offset 0x1010 and address 0x401000 differ within a page)');
  });

  test('huge sizes and addresses', () => {
    throwsElf(() => parseElf(patch(good, (v) => v.setBigUint64(PH(2) + 40, 0x7fffffffffffn, true))), /^segment 2: address range 0x402100-0x800000402[0-9a-f]+ exceeds the 47-bit user address space$/);
    throwsElf(() => parseElf(patch(good, (v) => v.setBigUint64(PH(2) + 40, 0xffffffffffffffffn, true))), /segment 2: address range 0x402100-0x100000000004020ff exceeds/);
    throwsElf(() => parseElf(patch(good, (v) => v.setBigUint64(PH(0) + 16, 0xffffffff80000000n, true))), /segment 0: address range 0xffffffff80000000-/);
    const big = buildElf({
      segs: [
        { flags: R | W, vaddr: 0x400000, offset: 0, filesz: 0x200, memsz: 40 * 2 ** 30 },
        { flags: R | W, vaddr: 0x400000 + 41 * 2 ** 30, offset: 0x1000, filesz: 0, memsz: 40 * 2 ** 30 },
      ],
    });
    throwsElf(() => parseElf(big), 'segments too large (more than 64 GiB of memory)');
  });

  test('bad entry point', () => {
    throwsElf(() => parseElf(buildElf({ ...STATIC, entry: 2 ** 47 })), 'entry point 0x800000000000 outside the user address space');
  });

  test('PT_INTERP problems', () => {
    const withInterp = (interp: string | Uint8Array, size?: number) => buildElf({ ...STATIC, interp, size });
    assert.equal(parseElf(withInterp('/lib64/ld-linux-x86-64.so.2')).interp, '/lib64/ld-linux-x86-64.so.2');
    throwsElf(() => parseElf(withInterp(new TextEncoder().encode('/lib64/ld.so'))), 'PT_INTERP path is not NUL-terminated');
    throwsElf(() => parseElf(withInterp(new Uint8Array([0, 0]))), 'PT_INTERP path is empty');
    throwsElf(() => parseElf(withInterp(new Uint8Array([0]))), 'bad PT_INTERP size 0x1');
    const outside = patch(withInterp('/x'), (v) => v.setBigUint64(PH(0) + 8, 0x100000n, true));
    throwsElf(() => parseElf(outside), 'PT_INTERP 0x100000+0x3 extends past end of file');
  });
});

describe('loadProgram on synthetic images', () => {
  test('static ET_EXEC: mappings, zeroed bss tail, anonymous bss pages, brk', () => {
    const mem = newMem();
    const image = buildElf(STATIC);
    const p = loadProgram(opts(mem, image));
    const lines = mem.formatMaps().split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(0, 5).join(' '));
    assert.deepEqual(lines, [
      '00400000-00401000 r--p 00000000 00:00 0',
      '00401000-00402000 r-xp 00001000 00:00 0',
      '00402000-00403000 rw-p 00002000 00:00 0',
      '00403000-00406000 rw-p 00000000 00:00 0',
      '7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0', // the string page + 128 KiB, as setup_arg_pages leaves it
    ]);
    assert.equal(mem.findVma(0x400000)?.name, '/prog');
    assert.equal(mem.findVma(0x403000)?.name, '');
    // File bytes up to filesz, zero after it in the same page (the file has 0xcc there), zero beyond.
    assert.deepEqual(mem.peek(0x402100, 0x80), image.subarray(0x2100, 0x2180));
    assert.ok(mem.peek(0x402180, 0x1000 - 0x180)!.every((b) => b === 0));
    assert.ok(mem.peek(0x403000, 0x2100)!.every((b) => b === 0));
    // The bytes before the segment in its first page are the file's (Linux maps whole pages).
    assert.deepEqual(mem.peek(0x402000, 0x100), image.subarray(0x2000, 0x2100));
    // memsz == filesz: the rest of the last page shows the file, as an mmap of it does.
    assert.deepEqual(mem.peek(0x401100, 0x10), image.subarray(0x1100, 0x1110));
    assert.equal(p.brk, 0x406000);
    assert.equal(mem.brkStart, 0x406000);
    assert.equal(p.entry, 0x401000);
    assert.equal(p.programEntry, 0x401000);
    assert.equal(p.interpBase, 0);
    assert.equal(p.phdr, 0x400040);
    assert.equal(p.rsp % 16, 0);
  });

  test('read-only segment with a bss keeps the file bytes after filesz (padzero fails silently in Linux)', () => {
    const mem = newMem();
    const image = buildElf({ segs: [{ flags: R, vaddr: 0x400000, offset: 0, filesz: 0x200, memsz: 0x2000 }, { flags: R | X, vaddr: 0x402000, offset: 0x1000, filesz: 0x10 }], entry: 0x402000 });
    loadProgram(opts(mem, image));
    assert.deepEqual(mem.peek(0x400200, 0x10), image.subarray(0x200, 0x210));
    assert.equal(mem.findVma(0x401000)?.prot, PROT_READ | PROT_WRITE, 'bss pages are anonymous read-write');
  });

  test('pure bss segment (p_filesz 0) is anonymous', () => {
    const mem = newMem();
    const image = buildElf({ segs: [...STATIC.segs.slice(0, 2), { flags: R | W, vaddr: 0x405000, offset: 0, filesz: 0, memsz: 0x1800 }] });
    const p = loadProgram(opts(mem, image));
    const v = mem.findVma(0x405000)!;
    assert.equal(v.name, '');
    assert.equal(v.end, 0x407000);
    assert.equal(p.brk, 0x407000);
  });

  test('PIE with PT_INTERP: bias 0x555555554000, 2 MiB p_align lowers it, interpreter at the mmap top', () => {
    const pie = (align: number) => buildElf({
      type: 3, entry: 0x1040, interp: '/lib/ld.so',
      segs: [{ flags: R, vaddr: 0, offset: 0, filesz: 0x200, align }, { flags: R | X, vaddr: 0x1000, offset: 0x1000, filesz: 0x100, align }],
    });
    const interp = buildElf({ type: 3, entry: 0x1010, segs: [{ flags: R, vaddr: 0, offset: 0, filesz: 0x200 }, { flags: R | X, vaddr: 0x1000, offset: 0x1000, filesz: 0x100, memsz: 0x1100 }] });
    const asked: string[] = [];
    const readInterp = (path: string) => {
      asked.push(path);
      return interp;
    };
    let mem = newMem();
    let p = loadProgram(opts(mem, pie(0x1000), { readInterp }));
    assert.deepEqual(asked, ['/lib/ld.so']);
    assert.equal(p.loadBias, 0x555555554000);
    assert.equal(p.programEntry, 0x555555555040);
    assert.equal(p.interpBase, 0x7ffff7fff000 - 0x3000);
    assert.equal(p.entry, p.interpBase + 0x1010);
    assert.equal(p.interpPath, '/lib/ld.so');
    assert.equal(mem.findVma(p.interpBase)?.name, '/lib/ld.so');
    assert.equal(p.brk, 0x555555556000);
    const aux = new Map(decodeAuxv(p.auxv));
    assert.equal(aux.get(7), p.interpBase);
    assert.equal(aux.get(9), p.programEntry);
    assert.equal(aux.get(3), 0x555555554040);
    mem = newMem();
    p = loadProgram(opts(mem, pie(0x200000), { readInterp }));
    assert.equal(p.loadBias, 0x555555400000);
  });

  test('static-pie: top of the mmap area (aligned down for a big p_align), brk at ELF_ET_DYN_BASE', () => {
    const spie = (align: number) => buildElf({ type: 3, entry: 0x1000, segs: [{ flags: R, vaddr: 0, offset: 0, filesz: 0x200, align }, { flags: R | X, vaddr: 0x1000, offset: 0x1000, filesz: 0x100, memsz: 0x2000, align }] });
    let p = loadProgram(opts(newMem(), spie(0x1000)));
    assert.equal(p.loadBias, 0x7ffff7fff000 - 0x3000);
    assert.equal(p.brk, 0x555555555000);
    p = loadProgram(opts(newMem(), spie(0x200000)));
    assert.equal(p.loadBias, 0x7ffff7e00000);
  });

  test('PT_GNU_STACK with PF_X makes the stack executable', () => {
    const withStack = (flags: number) => buildElf({ ...STATIC, segs: [...STATIC.segs, { type: PT_GNU_STACK, flags, vaddr: 0, offset: 0, filesz: 0, memsz: 0 }] });
    let mem = newMem();
    let p = loadProgram(opts(mem, withStack(R | W | X)));
    assert.equal(mem.findVma(p.rsp)?.prot, PROT_READ | PROT_WRITE | PROT_EXEC);
    assert.equal(p.execStack, true);
    mem = newMem();
    p = loadProgram(opts(mem, withStack(R | W)));
    assert.equal(mem.findVma(p.rsp)?.prot, PROT_READ | PROT_WRITE);
  });

  test('AT_PHDR is 0 when no PT_LOAD covers the program headers (as Linux)', () => {
    const img = buildElf({ segs: [{ flags: R | X, vaddr: 0x401000, offset: 0x1000, filesz: 0x100 }] });
    const p = loadProgram(opts(newMem(), img));
    assert.equal(p.phdr, 0);
  });

  test('empty argv becomes one empty string; NUL ends a string; bytes are accepted', () => {
    const mem = newMem();
    const p = loadProgram(opts(mem, buildElf(STATIC), { argv: [], envp: ['A=1\0junk', new Uint8Array([0x42, 0xff])] }));
    const word = (a: number) => (mem.read64(a) >>> 0) + (mem.hi >>> 0) * 2 ** 32;
    assert.equal(word(p.rsp), 1);
    assert.deepEqual(mem.readCString(word(p.rsp + 8)), new Uint8Array(0));
    assert.deepEqual(mem.readCString(word(p.rsp + 24)), new TextEncoder().encode('A=1'));
    assert.deepEqual(mem.readCString(word(p.rsp + 32)), new Uint8Array([0x42, 0xff]));
  });

  test('argument limits: E2BIG', () => {
    const mem = newMem();
    throwsElf(() => loadProgram(opts(mem, buildElf(STATIC), { argv: ['x'.repeat(200000)] })), /too long: Argument list too long/, 7);
    throwsElf(() => loadProgram(opts(mem, buildElf(STATIC), { envp: Array(40).fill('y'.repeat(100000)) })), /too large: Argument list too long/, 7);
    assert.equal(mem.mappings.length, 0);
  });

  test('missing or broken interpreter', () => {
    const img = buildElf({ ...STATIC, interp: '/lib64/ld-linux-x86-64.so.2' });
    const mem = newMem();
    throwsElf(() => loadProgram(opts(mem, img)), 'cannot load interpreter /lib64/ld-linux-x86-64.so.2: No such file or directory', 2);
    throwsElf(
      () => loadProgram(opts(mem, img, { readInterp: (p) => readFileSync(join('/nonexistent-elfshim', p)) })),
      'cannot load interpreter /lib64/ld-linux-x86-64.so.2: No such file or directory', 2,
    );
    throwsElf(() => loadProgram(opts(mem, img, { readInterp: () => { throw Object.assign(new Error('x'), { code: 'EACCES' }); } })),
      'cannot load interpreter /lib64/ld-linux-x86-64.so.2: Permission denied', 13);
    throwsElf(() => loadProgram(opts(mem, img, { readInterp: () => new TextEncoder().encode('#!/bin/sh\n') })),
      'interpreter /lib64/ld-linux-x86-64.so.2: not an ELF executable (bad magic)');
    throwsElf(() => loadProgram(opts(mem, img, { readInterp: () => buildElf({ ...STATIC, machine: 183 }) })),
      'interpreter /lib64/ld-linux-x86-64.so.2: wrong machine: AArch64, only x86-64 is supported');
    const odd = buildElf({ ...STATIC, interp: '/lib/evil\nname' });
    throwsElf(() => loadProgram(opts(mem, odd)), 'cannot load interpreter /lib/evil\\nname: No such file or directory', 2);
    assert.equal(mem.mappings.length, 0, 'nothing mapped');
  });

  test('a failure while mapping leaves nothing mapped', () => {
    const mem = newMem();
    // Second segment below vm.mmap_min_addr: the first one is mapped, then undone.
    const low = buildElf({ segs: [{ flags: R, vaddr: 0x0, offset: 0, filesz: 0x200 }, { flags: R | X, vaddr: 0x1000, offset: 0x1000, filesz: 0x100 }], entry: 0x1000, type: 3, interp: '/ld' });
    const ok = buildElf({ ...STATIC });
    // ET_EXEC at 0x1000: below mmap_min_addr.
    const exec = buildElf({ segs: [{ flags: R, vaddr: 0x400000, offset: 0, filesz: 0x200 }, { flags: R | X, vaddr: 0x7fffffffe000, offset: 0x1000, filesz: 0x100 }], entry: 0x400000 });
    throwsElf(() => loadProgram(opts(mem, exec)), 'cannot map the stack: File exists', 17);
    assert.equal(mem.mappings.length, 0);
    throwsElf(() => loadProgram(opts(mem, low, { readInterp: () => buildElf({ segs: [{ flags: R, vaddr: 0x1000, offset: 0, filesz: 0x200 }] }) })),
      'cannot map segment 0 at 0x1000: Operation not permitted', 1);
    assert.equal(mem.mappings.length, 0);
    loadProgram(opts(mem, ok));
    assert.ok(mem.mappings.length > 0);
  });

  test('vvar/vdso block: host layout reproduced below the interpreter; AT_SYSINFO_EHDR only with an image', () => {
    const maps = [
      '7ffff7fc2000-7ffff7fc6000 r--p 00000000 00:00 0                          [vvar]',
      '7ffff7fc6000-7ffff7fc8000 r--p 00000000 00:00 0                          [vvar_vclock]',
      '7ffff7fc8000-7ffff7fca000 r-xp 00000000 00:00 0                          [vdso]',
      '7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]',
    ].join('\n');
    const layout = vdsoLayoutFromMaps(maps);
    assert.deepEqual(layout, [
      { name: '[vvar]', size: 0x4000, prot: PROT_READ },
      { name: '[vvar_vclock]', size: 0x2000, prot: PROT_READ },
      { name: '[vdso]', size: 0x2000, prot: PROT_READ | PROT_EXEC },
    ]);
    const image = buildElf({ ...STATIC, interp: '/ld' });
    const interp = buildElf({ type: 3, entry: 0x1000, segs: [{ flags: R | X, vaddr: 0, offset: 0, filesz: 0x200, memsz: 0x3000 }] });
    let mem = newMem();
    let p = loadProgram(opts(mem, image, { readInterp: () => interp, vdso: { layout } }));
    assert.equal(p.interpBase, 0x7ffff7ffc000);
    assert.equal(mem.findVma(0x7ffff7ffa000)?.name, '[vdso]');
    assert.equal(mem.findVma(0x7ffff7ff4000)?.name, '[vvar]');
    assert.equal(mem.findFree(0x1000), 0x7ffff7ff3000, 'the next mmap goes below the block, as natively');
    assert.equal(new Map(decodeAuxv(p.auxv)).get(33), undefined);
    mem = newMem();
    const vdsoImage = new Uint8Array(0x2000).fill(7);
    p = loadProgram(opts(mem, image, { readInterp: () => interp, vdso: { layout, image: vdsoImage } }));
    const aux = decodeAuxv(p.auxv);
    assert.deepEqual(aux[0], [33, 0x7ffff7ffa000], 'AT_SYSINFO_EHDR comes first');
    assert.deepEqual(mem.peek(0x7ffff7ffa000, 4), new Uint8Array(4).fill(7));
  });
});

describe('the grows-down stack VMA', () => {
  const STACK_TOP = 0x7ffffffff000, PAGE = 4096;
  const stack = (mem: AddressSpace) => mem.mappings.find((m) => m.name === '[stack]')!;

  test('a fault below it extends it, within RLIMIT_STACK and the guard gap, and a peek does not', () => {
    const mem = newMem();
    loadProgram(opts(mem, buildElf(STATIC)));
    const start = stack(mem).start;
    assert.equal(mem.peek(start - 8, 8), null, 'the debugger does not grow the stack');
    mem.write32(start - 100 * PAGE + 12, 7);
    assert.equal(stack(mem).start, start - 100 * PAGE);
    assert.equal(mem.read32(start - 100 * PAGE + 12), 7);
    assert.equal(mem.read8(start - 50 * PAGE), 0, 'pages in between are zero');
    // Beyond RLIMIT_STACK (8 MiB by default): SIGSEGV, the VMA stays.
    assert.throws(() => mem.write8(STACK_TOP - 8 * 2 ** 20 - 1, 1), GuestFault);
    mem.write8(STACK_TOP - 8 * 2 ** 20, 1);
    assert.equal(stack(mem).start, STACK_TOP - 8 * 2 ** 20);
  });

  test('a mapping below it stops growth 256 pages above it; a lower limit stops it earlier', () => {
    const mem = newMem();
    loadProgram(opts(mem, buildElf(STATIC)));
    const start = stack(mem).start;
    const below = start - 300 * PAGE;
    assert.equal(mem.mmap(below, PAGE, PROT_READ, { fixed: true }), below);
    assert.throws(() => mem.write8(below + PAGE + 255 * PAGE - 1, 1), GuestFault, 'inside the guard gap');
    mem.write8(below + PAGE + 256 * PAGE, 1);
    assert.equal(stack(mem).start, below + 257 * PAGE);
    mem.stackLimit = STACK_TOP - stack(mem).start;
    assert.throws(() => mem.write8(stack(mem).start - 1, 1), GuestFault, 'setrlimit(RLIMIT_STACK) is checked at each growth');
  });
});
