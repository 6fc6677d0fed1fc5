import type { Registers } from './side.js';

/** The registers compared after every instruction, in report order. */
export const GPR_NAMES = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
export const CORE_NAMES = [...GPR_NAMES, 'rip', 'eflags', 'fs_base', 'gs_base'];
export const XMM_NAMES = Array.from({ length: 16 }, (_, k) => `xmm${k}`);
export const X87_NAMES = ['st0', 'st1', 'st2', 'st3', 'st4', 'st5', 'st6', 'st7', 'fctrl', 'fstat', 'ftag'];
/** The x87 last-instruction/operand pointers and opcode: compared only on request. */
export const X87_POINTER_NAMES = ['fiseg', 'fioff', 'foseg', 'fooff', 'fop'];

/** The EFLAGS bits a user program can observe and that have a defined meaning: CF PF AF ZF SF DF OF AC ID. */
export const EFLAGS_COMPARED = 0x240cd5;

/** Memory that differs between the runs; `first` is the offset of the first difference that counts (some bytes may be ignored). */
export interface MemoryDifference {
  addr: number;
  native: Uint8Array | null;
  elfshim: Uint8Array | null;
  first?: number;
}

export interface RegisterDifference {
  name: string;
  native: string;
  elfshim: string;
  /** Bits that were masked out as undefined (eflags). */
  masked?: number;
}

export function hex(b: Uint8Array): string {
  let s = '';
  for (let k = b.length - 1; k >= 0; k--) s += b[k].toString(16).padStart(2, '0');
  return s;
}

/** Formats a register value for reports: 0x-prefixed little-endian value. */
export function formatRegister(r: Registers, name: string): string {
  if (!r.has(name)) return '(n/a)';
  const b = r.raw(name);
  if (name === 'eflags') return `0x${r.num('eflags').toString(16).padStart(8, '0')} ${eflagsText(r.num('eflags'))}`;
  if (b.length <= 8) return '0x' + hex(b).replace(/^0+(?=.)/, '');
  return '0x' + hex(b);
}

export function eflagsText(v: number): string {
  const names: Array<[number, string]> = [[0, 'CF'], [2, 'PF'], [4, 'AF'], [6, 'ZF'], [7, 'SF'], [8, 'TF'], [9, 'IF'], [10, 'DF'], [11, 'OF'], [18, 'AC'], [21, 'ID']];
  return '[' + names.filter(([b]) => (v >> b) & 1).map(([, n]) => n).join(' ') + ']';
}

/** Compares two register files; eflags (and the x87 status word) through the given masks. */
export function compareRegisters(n: Registers, e: Registers, names: string[], eflagsMask: number, fstatMask = 0xffff): RegisterDifference[] {
  const diffs: RegisterDifference[] = [];
  for (const name of names) {
    if (!n.has(name) || !e.has(name)) continue;
    if (name === 'eflags') {
      const a = n.num('eflags'), b = e.num('eflags');
      if (((a ^ b) & eflagsMask) !== 0) diffs.push({ name, native: formatRegister(n, name), elfshim: formatRegister(e, name), masked: EFLAGS_COMPARED & ~eflagsMask });
      continue;
    }
    if (name === 'fstat') {
      if (((n.num('fstat') ^ e.num('fstat')) & fstatMask) !== 0) diffs.push({ name, native: formatRegister(n, name), elfshim: formatRegister(e, name) });
      continue;
    }
    const a = n.raw(name), b = e.raw(name);
    if (a.length !== b.length || !a.every((x, k) => x === b[k])) diffs.push({ name, native: formatRegister(n, name), elfshim: formatRegister(e, name) });
  }
  return diffs;
}

/** Offsets at which two byte arrays differ (the first few). */
export function byteDifferences(a: Uint8Array, b: Uint8Array, max = 16): number[] {
  const out: number[] = [];
  for (let k = 0; k < Math.min(a.length, b.length) && out.length < max; k++) if (a[k] !== b[k]) out.push(k);
  return out;
}
