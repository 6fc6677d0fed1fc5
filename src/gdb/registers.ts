import type { Cpu } from '../cpu/cpu.js';
import { RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP } from '../cpu/cpu.js';
import { readS64LE, readU64LE, writeU64LE } from './hex.js';

/**
 * The amd64 GNU/Linux register file as gdb numbers it (the order of the `g`
 * packet and of target.xml): one table, from which `g`/`G`/`p`/`P` and the
 * target description are all derived.
 */

export type RegisterFeature = 'core' | 'sse' | 'linux' | 'segments';

export interface RegisterDesc {
  readonly regnum: number;
  readonly name: string;
  /** Size in bytes on the wire (little-endian). */
  readonly size: number;
  /** Byte offset in the `g` packet. */
  readonly offset: number;
  readonly feature: RegisterFeature;
  /** target.xml type and group. */
  readonly type: string;
  readonly group?: string;
  read(c: Cpu, v: DataView, off: number): void;
  write(c: Cpu, v: DataView, off: number): void;
}

type Spec = Omit<RegisterDesc, 'regnum' | 'offset'>;

const TWO32 = 4294967296;

/** gdb's GPR order → x86 encoding numbers (rax rbx rcx rdx rsi rdi rbp rsp r8..r15). */
const GPR_ENCODING = [RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP, 8, 9, 10, 11, 12, 13, 14, 15];
const GPR_NAMES = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** Selectors a Linux x86-64 user process sees. */
const LINUX_SELECTORS: Record<string, number> = { cs: 0x33, ss: 0x2b, ds: 0, es: 0, fs: 0, gs: 0 };

function gpr(i: number): Spec {
  const enc = GPR_ENCODING[i];
  const name = GPR_NAMES[i];
  return {
    name,
    size: 8,
    feature: 'core',
    type: name === 'rbp' || name === 'rsp' ? 'data_ptr' : 'int64',
    read: (c, v, o) => {
      v.setInt32(o, c.r[2 * enc], true);
      v.setInt32(o + 4, c.r[2 * enc + 1], true);
    },
    write: (c, v, o) => {
      c.r[2 * enc] = v.getInt32(o, true);
      c.r[2 * enc + 1] = v.getInt32(o + 4, true);
    },
  };
}

/** A 32-bit field of the CPU (eflags, x87 control words, mxcsr). */
function u32(name: string, feature: RegisterFeature, type: string, group: string | undefined, get: (c: Cpu) => number, set: (c: Cpu, x: number) => void): Spec {
  return {
    name,
    size: 4,
    feature,
    type,
    group,
    read: (c, v, o) => v.setUint32(o, get(c) >>> 0, true),
    write: (c, v, o) => set(c, v.getUint32(o, true)),
  };
}

/** A 64-bit field kept as a double (rip, fs_base, orig_rax). */
function u64(name: string, feature: RegisterFeature, type: string, get: (c: Cpu) => number, set: (c: Cpu, v: DataView, o: number) => void): Spec {
  return { name, size: 8, feature, type, read: (c, v, o) => writeU64LE(v, o, get(c)), write: set };
}

function segment(name: string): Spec {
  const value = LINUX_SELECTORS[name];
  // Segment registers are fixed for a 64-bit Linux process; writes are accepted and ignored, as ptrace would refuse other values.
  return u32(name, 'core', 'int32', undefined, () => value, () => {});
}

function st(i: number): Spec {
  return {
    name: `st${i}`,
    size: 10,
    feature: 'core',
    type: 'i387_ext',
    read: (c, v, o) => {
      const phys = (c.x87.top + i) & 7;
      new Uint8Array(v.buffer, v.byteOffset + o, 10).set(c.x87.regs.subarray(phys * 10, phys * 10 + 10));
    },
    write: (c, v, o) => {
      const phys = (c.x87.top + i) & 7;
      c.x87.regs.set(new Uint8Array(v.buffer, v.byteOffset + o, 10), phys * 10);
    },
  };
}

/** x87 64-bit pointers are split like gdb's amd64 fxsave mapping: low half in *off, high half in *seg. */
const hi32 = (x: number) => Math.floor(x / TWO32) >>> 0;
const lo32 = (x: number) => (x - Math.floor(x / TWO32) * TWO32) >>> 0;

function xmm(i: number): Spec {
  return {
    name: `xmm${i}`,
    size: 16,
    feature: 'sse',
    type: 'vec128',
    read: (c, v, o) => new Uint8Array(v.buffer, v.byteOffset + o, 16).set(c.xmmU8.subarray(16 * i, 16 * i + 16)),
    write: (c, v, o) => c.xmmU8.set(new Uint8Array(v.buffer, v.byteOffset + o, 16), 16 * i),
  };
}

const SPECS: Spec[] = [
  ...GPR_NAMES.map((_, i) => gpr(i)),
  u64('rip', 'core', 'code_ptr', (c) => c.rip, (c, v, o) => (c.rip = readU64LE(v, o))),
  u32('eflags', 'core', 'i386_eflags', undefined, (c) => c.getEflags(), (c, x) => c.setEflags(x)),
  ...['cs', 'ss', 'ds', 'es', 'fs', 'gs'].map(segment),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map(st),
  u32('fctrl', 'core', 'int', 'float', (c) => c.x87.fcw, (c, x) => (c.x87.fcw = x & 0xffff)),
  u32('fstat', 'core', 'int', 'float', (c) => c.x87.statusWord, (c, x) => (c.x87.statusWord = x & 0xffff)),
  // The full two-bits-per-register tag word, as gdbserver sends it (0xffff = all empty).
  u32('ftag', 'core', 'int', 'float', (c) => c.x87.ftw, (c, x) => (c.x87.ftw = x & 0xffff)),
  u32('fiseg', 'core', 'int', 'float', (c) => hi32(c.x87.fip), (c, x) => (c.x87.fip = x * TWO32 + lo32(c.x87.fip))),
  u32('fioff', 'core', 'int', 'float', (c) => lo32(c.x87.fip), (c, x) => (c.x87.fip = hi32(c.x87.fip) * TWO32 + x)),
  u32('foseg', 'core', 'int', 'float', (c) => hi32(c.x87.fdp), (c, x) => (c.x87.fdp = x * TWO32 + lo32(c.x87.fdp))),
  u32('fooff', 'core', 'int', 'float', (c) => lo32(c.x87.fdp), (c, x) => (c.x87.fdp = hi32(c.x87.fdp) * TWO32 + x)),
  u32('fop', 'core', 'int', 'float', (c) => c.x87.fop, (c, x) => (c.x87.fop = x & 0x7ff)),
  ...Array.from({ length: 16 }, (_, i) => xmm(i)),
  u32('mxcsr', 'sse', 'i386_mxcsr', 'vector', (c) => c.mxcsr, (c, x) => (c.mxcsr = x)),
  // gdb writes -1 here when it moves the pc, to cancel a syscall restart; keep it signed.
  u64('orig_rax', 'linux', 'int', (c) => c.origRax, (c, v, o) => (c.origRax = readS64LE(v, o))),
  u64('fs_base', 'segments', 'int', (c) => c.fsBase, (c, v, o) => (c.fsBase = readU64LE(v, o))),
  u64('gs_base', 'segments', 'int', (c) => c.gsBase, (c, v, o) => (c.gsBase = readU64LE(v, o))),
];

function layout(specs: Spec[]): RegisterDesc[] {
  let offset = 0;
  return specs.map((s, regnum) => {
    const d = { ...s, regnum, offset };
    offset += s.size;
    return d;
  });
}

export const REGISTERS: readonly RegisterDesc[] = layout(SPECS);
/** Size of the `g` packet's register block in bytes (560). */
export const REGISTER_BLOCK_SIZE = REGISTERS.reduce((n, r) => n + r.size, 0);

export const REGNUM = Object.fromEntries(REGISTERS.map((r) => [r.name, r.regnum])) as Record<string, number>;

/** All registers of a thread as the `g` packet lays them out. */
export function readAllRegisters(c: Cpu): Uint8Array {
  const out = new Uint8Array(REGISTER_BLOCK_SIZE);
  const v = new DataView(out.buffer);
  for (const r of REGISTERS) r.read(c, v, r.offset);
  return out;
}

/** Writes a whole `G` block; false (nothing written) when the size is wrong. */
export function writeAllRegisters(c: Cpu, data: Uint8Array): boolean {
  if (data.length !== REGISTER_BLOCK_SIZE) return false;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // st0..st7 are addressed through TOP, so the status word (which holds TOP) goes in first.
  for (const r of REGISTERS) if (r.type !== 'i387_ext') r.write(c, v, r.offset);
  for (const r of REGISTERS) if (r.type === 'i387_ext') r.write(c, v, r.offset);
  return true;
}

/** One register's bytes, or null for an unknown register number. */
export function readRegister(c: Cpu, regnum: number): Uint8Array | null {
  const r = REGISTERS[regnum];
  if (!r) return null;
  const out = new Uint8Array(r.size);
  r.read(c, new DataView(out.buffer), 0);
  return out;
}

/** Writes one register; false for an unknown number or a wrong size. */
export function writeRegister(c: Cpu, regnum: number, data: Uint8Array): boolean {
  const r = REGISTERS[regnum];
  if (!r || data.length !== r.size) return false;
  r.write(c, new DataView(data.buffer, data.byteOffset, data.byteLength), 0);
  return true;
}
