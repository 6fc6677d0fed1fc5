/// <reference types="node" />
// Mutation fuzzing with a seeded PRNG: whatever the bytes, parseElf and loadProgram either
// succeed or throw an ElfError with a one-line reason — and a failed load leaves nothing mapped.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressSpace } from '../src/mem/address-space.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import { ElfError, loadProgram, parseElf } from '../src/elf/index.js';

/** mulberry32: small, fast, reproducible. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) | 0;
  };
}

const INTERESTING_64 = [0n, 1n, 0xfffn, 0x1000n, 0x10000n, 0x400000n, 0x7ffffffff000n, 0x800000000000n, 0x8000000000000000n, 0xffffffffffffffffn, 0xfffffffffffff000n, 0x20000000000000n];
const INTERESTING_32 = [0, 1, 2, 3, 4, 6, 7, 0x6474e551, 0x6474e552, 0x7fffffff, 0xffffffff];
const INTERESTING_16 = [0, 1, 2, 3, 4, 3, 62, 183, 56, 64, 0xffff, 0x7fff, 1170, 1171];

/** A few random edits concentrated on the ELF header and program headers, sometimes a truncation. */
function mutate(base: Uint8Array, rnd: (n: number) => number): Uint8Array {
  let img = new Uint8Array(base); // a copy (Buffer#slice would be a view)
  const view = () => new DataView(img.buffer, img.byteOffset, img.byteLength);
  const phnum = base.length >= 64 ? new DataView(base.buffer, base.byteOffset).getUint16(56, true) : 0;
  const hot = Math.min(img.length, 64 + 56 * phnum);
  const edits = 1 + rnd(6);
  for (let k = 0; k < edits; k++) {
    switch (rnd(6)) {
      case 0:
        img[rnd(hot)] = rnd(256);
        break;
      case 1:
        img[rnd(img.length)] = rnd(256);
        break;
      case 2: {
        const off = rnd(Math.floor(hot / 8)) * 8;
        if (off + 8 <= img.length) view().setBigUint64(off, rnd(4) === 0 ? BigInt(img.length + rnd(3) - 1) : INTERESTING_64[rnd(INTERESTING_64.length)], true);
        break;
      }
      case 3: {
        const off = 16 + 2 * rnd(24);
        if (off + 2 <= img.length) view().setUint16(off, INTERESTING_16[rnd(INTERESTING_16.length)], true);
        break;
      }
      case 4: {
        const off = 64 + 56 * rnd(Math.max(phnum, 1)) + 4 * rnd(2);
        if (off + 4 <= img.length) view().setUint32(off, INTERESTING_32[rnd(INTERESTING_32.length)], true);
        break;
      }
      default: {
        // Swap two program headers (ordering, overlap).
        const a = 64 + 56 * rnd(Math.max(phnum, 1));
        const b = 64 + 56 * rnd(Math.max(phnum, 1));
        if (a + 56 <= img.length && b + 56 <= img.length) {
          const tmp = img.slice(a, a + 56);
          img.copyWithin(a, b, b + 56);
          img.set(tmp, b);
        }
      }
    }
  }
  const r = rnd(10);
  if (r === 0) img = img.subarray(0, rnd(img.length + 1));
  else if (r === 1) img = img.subarray(0, rnd(hot + 1));
  return img;
}

function checkError(e: unknown, what: string): void {
  if (!(e instanceof ElfError)) assert.fail(`${what}: non-ElfError escaped: ${e instanceof Error ? e.stack : String(e)}`);
  assert.ok(e.message.length > 0 && !/[\r\n]/.test(e.message), `${what}: bad message ${JSON.stringify(e.message)}`);
  assert.ok(Number.isInteger(e.errno) && e.errno > 0, `${what}: errno`);
}

let dir = '';
const built: Record<string, Uint8Array> = {};
const TINY_C = `
static const char msg[] = "hi\\n";
long counter = 5;
char buf[8192];
void _start(void) { buf[0] = msg[0] + (char)counter; __asm__ volatile("mov $60, %eax\\n xor %edi, %edi\\n syscall"); }
`;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'elfshim-elf-fuzz-'));
  writeFileSync(join(dir, 'tiny.c'), TINY_C);
  const variants: Record<string, string[]> = {
    static: ['-static', '-no-pie'],
    spie: ['-static-pie'],
    dyn: ['-pie', '-fPIE', '-Wl,-dynamic-linker,/lib64/ld-linux-x86-64.so.2'],
  };
  for (const [name, flags] of Object.entries(variants)) {
    const out = join(dir, name);
    const r = spawnSync('gcc', ['-O1', '-nostdlib', '-o', out, join(dir, 'tiny.c'), ...flags]);
    if (r.status === 0) built[name] = readFileSync(out);
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('elf fuzz', () => {
  test('parseElf: only ElfError or success for mutated real ELFs', (t) => {
    const bases = [...Object.values(built)];
    if (existsSync('/bin/true')) bases.push(readFileSync('/bin/true'));
    if (bases.length === 0) return t.skip('no ELF to mutate');
    const rnd = prng(0x5eed);
    let ok = 0;
    const reasons = new Set<string>();
    for (let i = 0; i < 6000; i++) {
      const img = mutate(bases[i % bases.length], rnd);
      try {
        parseElf(img);
        ok++;
      } catch (e) {
        checkError(e, `iteration ${i}`);
        reasons.add((e as ElfError).message.replace(/0x[0-9a-f]+|\d+/g, 'N'));
      }
    }
    // The mutations must reach both outcomes and many different checks.
    assert.ok(ok > 100, `some mutants still parse (${ok})`);
    assert.ok(reasons.size >= 15, `varied rejections: ${[...reasons].join(' | ')}`);
  });

  test('loadProgram: only ElfError or success, and a failed load leaves nothing mapped', (t) => {
    const programs = Object.values(built);
    if (programs.length === 0) return t.skip('gcc -nostdlib not available');
    const interp = built.spie ?? built.static;
    const phys = new PhysicalMemory(1 << 27);
    const rnd = prng(0xe1f);
    let loaded = 0;
    for (let i = 0; i < 1000; i++) {
      const base = programs[i % programs.length];
      const mutateInterp = rnd(5) === 0;
      const image = mutateInterp ? base : mutate(base, rnd);
      const interpImage = mutateInterp ? mutate(interp, rnd) : interp;
      const mem = new AddressSpace(phys);
      try {
        const p = loadProgram({
          mem, image, path: '/fuzz', argv: ['/fuzz', 'a'], envp: ['E=1'], random16: new Uint8Array(16),
          hwcap: 0x178bfbff, hwcap2: 2, uid: 0, gid: 0, readInterp: () => interpImage,
        });
        assert.equal(p.rsp % 16, 0);
        assert.ok(mem.findVma(p.rsp), 'stack mapped');
        loaded++;
      } catch (e) {
        checkError(e, `iteration ${i}`);
        assert.equal(mem.mappings.length, 0, `iteration ${i}: mappings left after "${(e as Error).message}"`);
      } finally {
        mem.destroy();
      }
    }
    assert.ok(loaded > 50, `some mutants still load (${loaded})`);
    assert.equal(phys.framesInUse, 0, 'every frame released');
  });
});
