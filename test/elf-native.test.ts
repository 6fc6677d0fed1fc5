/// <reference types="node" />
// Loads real programs (gcc, gcc -static-pie, gcc -static, musl-gcc) and compares the result with
// what Linux itself builds for the same program under `setarch -R` (no ASLR): the probe program
// prints its argv/envp/auxv addresses and its /proc/self/maps, and every address must match.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressSpace } from '../src/mem/address-space.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../src/mem/fault.js';
import { decodeAuxv, loadProgram, parseElf, readSymbols, vdsoLayoutFromMaps, type ElfFile, type LoadedProgram } from '../src/elf/index.js';

const PROBE_C = String.raw`
#include <stdio.h>
int main(int argc, char **argv, char **envp) {
  printf("argv %p\n", (void *)argv);
  for (int i = 0; i < argc; i++) printf("arg %p\n", (void *)argv[i]);
  char **e = envp;
  for (; *e; e++) printf("env %p\n", (void *)*e);
  for (unsigned long *av = (unsigned long *)(e + 1); av[0]; av += 2) printf("aux %lu 0x%lx\n", av[0], av[1]);
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  while (f && fgets(line, sizeof line, f)) printf("map %s", line);
  return 0;
}
`;

interface Variant {
  name: string;
  cc: string;
  flags: string[];
  /** The libc applies PT_GNU_RELRO at start-up (musl's static start does not). */
  relro: boolean;
  type: 'exec' | 'dyn';
  interp: boolean;
  /** Expected load bias when not the default for the type (0, 0x555555554000, or top of the mmap area). */
  bias?: number | 'aligned';
}

const VARIANTS: Variant[] = [
  { name: 'gcc PIE dynamic', cc: 'gcc', flags: [], relro: true, type: 'dyn', interp: true },
  { name: 'gcc non-PIE dynamic', cc: 'gcc', flags: ['-no-pie'], relro: true, type: 'exec', interp: true },
  { name: 'gcc static-pie', cc: 'gcc', flags: ['-static-pie'], relro: true, type: 'dyn', interp: false },
  { name: 'gcc static', cc: 'gcc', flags: ['-static', '-no-pie'], relro: true, type: 'exec', interp: false },
  { name: 'musl static', cc: 'musl-gcc', flags: ['-static'], relro: false, type: 'exec', interp: false },
  { name: 'musl dynamic', cc: 'musl-gcc', flags: [], relro: true, type: 'dyn', interp: true },
  // 2 MiB p_align: Linux aligns the PIE bias (0x555555400000) and a static-pie's mmap placement.
  { name: 'gcc PIE 2 MiB aligned', cc: 'gcc', flags: ['-Wl,-z,max-page-size=0x200000'], relro: true, type: 'dyn', interp: true, bias: 0x555555400000 },
  { name: 'gcc static-pie 2 MiB aligned', cc: 'gcc', flags: ['-static-pie', '-Wl,-z,max-page-size=0x200000'], relro: true, type: 'dyn', interp: false, bias: 'aligned' },
];

const ARGS = ['x', 'yy'];
const ENV = { A: '1', B: 'two' };

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'elfshim-elf-native-'));
  writeFileSync(join(dir, 'probe.c'), PROBE_C);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function compile(v: Variant): string | null {
  const out = join(dir, v.name.replace(/\W+/g, '-'));
  const r = spawnSync(v.cc, ['-O1', '-o', out, join(dir, 'probe.c'), ...v.flags], { encoding: 'utf8' });
  return r.status === 0 ? out : null;
}

/** /proc/PID/maps "MAJOR:MINOR" for a stat dev number (glibc's gnu_dev_major/minor). */
function devString(dev: number): string {
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

interface Native {
  argv: number;
  args: number[];
  envs: number[];
  aux: [number, number][];
  maps: string[];
}

function runNative(exe: string): Native | null {
  const r = spawnSync('setarch', ['-R', exe, ...ARGS], { env: ENV, encoding: 'utf8' });
  if (r.status !== 0) return null;
  const n: Native = { argv: 0, args: [], envs: [], aux: [], maps: [] };
  for (const line of r.stdout.split('\n')) {
    const [tag, a, b] = line.split(' ');
    if (tag === 'argv') n.argv = Number(a);
    else if (tag === 'arg') n.args.push(Number(a));
    else if (tag === 'env') n.envs.push(Number(a));
    else if (tag === 'aux') n.aux.push([Number(a), Number(b)]);
    else if (tag === 'map') n.maps.push(line.slice(4));
  }
  return n;
}

function fileInfo(path: string) {
  const st = statSync(path);
  return { name: path, inode: st.ino, dev: devString(st.dev) };
}

function load(exe: string, native: Native | null): { mem: AddressSpace; prog: LoadedProgram } {
  const mem = new AddressSpace(new PhysicalMemory(1 << 28));
  const aux = new Map(native?.aux ?? []);
  const layout = native ? vdsoLayoutFromMaps(native.maps.join('\n')) : [];
  const prog = loadProgram({
    mem,
    image: readFileSync(exe),
    path: exe,
    argv: [exe, ...ARGS],
    envp: Object.entries(ENV).map(([k, v]) => `${k}=${v}`),
    random16: new Uint8Array(16).fill(0xa5),
    hwcap: aux.get(16) ?? 0x178bfbff,
    hwcap2: aux.get(26) ?? 2,
    uid: process.getuid!(),
    gid: process.getgid!(),
    minSigStkSz: aux.get(51),
    // The host's vvar/vdso block (sizes from the native maps) with a stand-in image, so that
    // AT_SYSINFO_EHDR and everything below it can be compared too.
    vdso: layout.length ? { layout, image: aux.has(33) ? new Uint8Array(layout[layout.length - 1].size) : null } : null,
    rseq: aux.has(27) ? { featureSize: aux.get(27)!, align: aux.get(28)! } : null,
    file: fileInfo(exe),
    readInterp: (p) => {
      const real = realpathSync(p);
      return { image: readFileSync(real), ...fileInfo(real) };
    },
  });
  return { mem, prog };
}

/** What ld.so / libc do to the pages before main: make PT_GNU_RELRO read-only. */
function applyRelro(mem: AddressSpace, elf: ElfFile, bias: number): void {
  if (!elf.relro) return;
  const start = Math.floor((elf.relro.vaddr + bias) / 4096) * 4096;
  const end = Math.floor((elf.relro.vaddr + elf.relro.memsz + bias) / 4096) * 4096;
  if (end > start) assert.equal(mem.mprotect(start, end - start, PROT_READ), 0);
}

function readWord(mem: AddressSpace, a: number): number {
  const lo = mem.read64(a) >>> 0;
  return lo + (mem.hi >>> 0) * 2 ** 32;
}

function readString(mem: AddressSpace, a: number): string {
  return new TextDecoder().decode(mem.readCString(a)!);
}

const hasSetarch = spawnSync('setarch', ['-R', 'true']).status === 0;

for (const v of VARIANTS) {
  describe(`elf loader vs native: ${v.name}`, () => {
    let exe: string | null = null;
    let native: Native | null = null;
    let mem: AddressSpace;
    let prog: LoadedProgram;
    let elf: ElfFile;

    before(() => {
      if (v.cc === 'musl-gcc' && v.interp && !existsSync('/lib/ld-musl-x86_64.so.1')) return;
      exe = compile(v);
      if (!exe) return;
      native = hasSetarch ? runNative(exe) : null;
      elf = parseElf(readFileSync(exe));
      ({ mem, prog } = load(exe, native));
    });

    test('type, entry, bias and interpreter', (t) => {
      if (!exe) return t.skip(`${v.cc} ${v.flags.join(' ')} not available`);
      assert.equal(elf.type, v.type === 'exec' ? 2 : 3);
      assert.equal(prog.interpPath !== null, v.interp);
      if (v.type === 'exec') assert.equal(prog.loadBias, 0);
      else if (typeof v.bias === 'number') assert.equal(prog.loadBias, v.bias);
      else if (v.bias === 'aligned') assert.equal(prog.loadBias % 0x200000, 0);
      else if (v.interp) assert.equal(prog.loadBias, 0x555555554000);
      else assert.equal(prog.imageStart + Math.ceil((prog.imageEnd - prog.imageStart) / 4096) * 4096, 0x7ffff7fff000); // top of the mmap area
      assert.equal(prog.programEntry, elf.entry + prog.loadBias);
      if (!v.interp) assert.equal(prog.entry, prog.programEntry);
      else assert.notEqual(prog.entry, prog.programEntry);
      // brk right after the image (a static-pie's moves to ELF_ET_DYN_BASE).
      const expectBrk = v.type === 'dyn' && !v.interp ? 0x555555555000 : Math.ceil(prog.imageEnd / 4096) * 4096;
      assert.equal(prog.brk, expectBrk);
      assert.equal(mem.brkStart, expectBrk);
      assert.equal(mem.brkEnd, expectBrk);
      // main's symbol lands inside an executable mapping.
      const main = readSymbols(readFileSync(exe)).find((s) => s.name === 'main');
      assert.ok(main, 'main symbol');
      assert.ok(mem.isExecutable(main.value + prog.loadBias));
    });

    test('mappings and permissions match readelf -lW', (t) => {
      if (!exe) return t.skip('not built');
      const r = spawnSync('readelf', ['-lW', exe], { encoding: 'utf8' });
      if (r.status !== 0) return t.skip('no readelf');
      const loads = r.stdout.split('\n').filter((l) => /^\s*LOAD\s/.test(l));
      assert.equal(loads.length, elf.loads.length);
      for (const line of loads) {
        const m = /LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+\S+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+([RWE ]+?)\s+0x/.exec(line)!;
        const vaddr = Number(m[2]) + prog.loadBias;
        const filesz = Number(m[3]);
        const memsz = Number(m[4]);
        const want = (m[5].includes('R') ? PROT_READ : 0) | (m[5].includes('W') ? PROT_WRITE : 0) | (m[5].includes('E') ? PROT_EXEC : 0);
        assert.equal(mem.findVma(vaddr)?.prot, want, `LOAD at ${vaddr.toString(16)}`);
        assert.equal(mem.findVma(vaddr + filesz - 1)?.prot, want);
        assert.ok(mem.findVma(vaddr + memsz - 1), 'bss end mapped');
        // The file's bytes are there.
        const off = Number(m[1]);
        const n = Math.min(filesz, 256);
        assert.deepEqual(mem.peek(vaddr, n), new Uint8Array(readFileSync(exe).subarray(off, off + n)));
        if (memsz > filesz && want & PROT_WRITE) {
          const tail = mem.peek(vaddr + filesz, Math.min(memsz - filesz, 4096))!;
          assert.ok(tail.every((b) => b === 0), 'bss reads as zero');
        }
      }
      const stack = mem.findVma(prog.rsp)!;
      assert.equal(stack.name, '[stack]');
      assert.equal(stack.end, 0x7ffffffff000);
      assert.equal(stack.prot, PROT_READ | PROT_WRITE);
    });

    test('initial stack: argc, argv, envp, auxv readable back', (t) => {
      if (!exe) return t.skip('not built');
      assert.equal(prog.rsp % 16, 0);
      assert.equal(readWord(mem, prog.rsp), 1 + ARGS.length);
      const argv = [exe, ...ARGS];
      argv.forEach((s, k) => assert.equal(readString(mem, readWord(mem, prog.rsp + 8 + 8 * k)), s));
      assert.equal(readWord(mem, prog.rsp + 8 + 8 * argv.length), 0);
      const envBase = prog.rsp + 16 + 8 * argv.length;
      const env = Object.entries(ENV).map(([k, val]) => `${k}=${val}`);
      env.forEach((s, k) => assert.equal(readString(mem, readWord(mem, envBase + 8 * k)), s));
      assert.equal(readWord(mem, envBase + 8 * env.length), 0);
      const auxAddr = envBase + 8 * env.length + 8;
      assert.deepEqual(mem.peek(auxAddr, prog.auxv.length), prog.auxv);
      const aux = new Map(decodeAuxv(prog.auxv));
      assert.equal(aux.get(9), prog.programEntry, 'AT_ENTRY is the program entry');
      assert.equal(aux.get(3), prog.phdr);
      assert.equal(aux.get(3), elf.phoff + prog.loadBias + (v.type === 'exec' ? elf.loads[0].vaddr - elf.loads[0].offset : 0));
      assert.equal(aux.get(4), 56);
      assert.equal(aux.get(5), elf.phnum);
      assert.equal(aux.get(7), prog.interpBase);
      if (v.interp) assert.equal(mem.findVma(prog.interpBase)?.start, prog.interpBase);
      else assert.equal(prog.interpBase, 0);
      assert.equal(aux.get(6), 4096);
      assert.equal(readString(mem, aux.get(31)!), exe, 'AT_EXECFN');
      assert.equal(readString(mem, aux.get(15)!), 'x86_64', 'AT_PLATFORM');
      assert.deepEqual(mem.peek(aux.get(25)!, 16), new Uint8Array(16).fill(0xa5), 'AT_RANDOM');
      // The program headers really are at AT_PHDR.
      const phdrs = readFileSync(exe).subarray(elf.phoff, elf.phoff + 56 * elf.phnum);
      assert.deepEqual(mem.peek(prog.phdr, phdrs.length), new Uint8Array(phdrs));
      // cmdline / environ areas.
      assert.equal(new TextDecoder().decode(mem.peek(prog.argStart, prog.argEnd - prog.argStart)!), argv.join('\0') + '\0');
      assert.equal(new TextDecoder().decode(mem.peek(prog.envStart, prog.envEnd - prog.envStart)!), env.join('\0') + '\0');
    });

    test('stack and auxv addresses are the ones Linux gives (setarch -R)', (t) => {
      if (!exe) return t.skip('not built');
      if (!native) return t.skip('setarch -R not usable here');
      assert.equal(prog.rsp + 8, native.argv, 'rsp');
      const args: number[] = [];
      for (let k = 0; k < 1 + ARGS.length; k++) args.push(readWord(mem, prog.rsp + 8 + 8 * k));
      assert.deepEqual(args, native.args);
      const envs: number[] = [];
      for (let k = 0; k < native.envs.length; k++) envs.push(readWord(mem, prog.rsp + 16 + 8 * (1 + ARGS.length) + 8 * k));
      assert.deepEqual(envs, native.envs);
      const ours = decodeAuxv(prog.auxv).filter(([type]) => type !== 0);
      assert.deepEqual(ours, native.aux);
    });

    test('program and interpreter mappings are the ones Linux gives (setarch -R)', (t) => {
      if (!exe) return t.skip('not built');
      if (!native) return t.skip('setarch -R not usable here');
      if (v.relro) applyRelro(mem, elf, prog.loadBias);
      const ranges: [number, number][] = [[prog.imageStart, Math.ceil(prog.imageEnd / 4096) * 4096]];
      if (v.interp) {
        const interpElf = parseElf(readFileSync(realpathSync(prog.interpPath!)));
        applyRelro(mem, interpElf, prog.interpBase);
        const last = interpElf.loads[interpElf.loads.length - 1];
        ranges.push([prog.interpBase, Math.ceil((prog.interpBase + last.vaddr + last.memsz) / 4096) * 4096]);
      }
      const vdso = mem.mappings.filter((m) => /^\[(vvar\w*|vdso)\]$/.test(m.name));
      assert.equal(vdso.length, native.maps.filter((l) => /\[(vvar\w*|vdso)\]/.test(l)).length, 'vdso block reproduced');
      for (const m of vdso) ranges.push([m.start, m.end]);
      const inImage = (line: string) => {
        const start = parseInt(line.split('-')[0], 16);
        return ranges.some(([a, b]) => start >= a && start < b);
      };
      const ours = mem.formatMaps().split('\n').filter((l) => l && inImage(l));
      const theirs = native.maps.map((l) => l.replace(/\n$/, '')).filter(inImage);
      assert.deepEqual(ours, theirs);
      const heap = native.maps.find((l) => l.includes('[heap]'));
      if (heap) assert.equal(parseInt(heap.split('-')[0], 16), prog.brk, 'heap start');
    });
  });
}
