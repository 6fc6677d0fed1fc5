import type { Cpu } from '../cpu.js';
import type { Instr, ExecFn } from '../instr.js';
import { GuestFault } from '../../mem/fault.js';

/**
 * The SSE work area: four 16-byte slots with every typed view over them.
 * An instruction copies its destination register to slot A and its source
 * (register or memory) to slot B, a kernel computes slot R from them, and R is
 * copied back. Data only ever moves through the integer views; the float views
 * are used for arithmetic, so NaN payloads are never at the mercy of the engine.
 * JavaScript is single-threaded and kernels never re-enter, so one area suffices.
 */
export const S = new Int32Array(16);
export const U8 = new Uint8Array(S.buffer);
export const I8 = new Int8Array(S.buffer);
export const U16 = new Uint16Array(S.buffer);
export const I16 = new Int16Array(S.buffer);
export const U32 = new Uint32Array(S.buffer);
export const F32 = new Float32Array(S.buffer);
export const F64 = new Float64Array(S.buffer);

/** Slot offsets in int32 units: A (first source = destination), B (second source), R (result), X (extra: xmm0, temporaries). */
export const A = 0, B = 4, R = 8, X = 12;

/** A kernel reads slots A/B (and X) and writes slot R. */
export type Kernel = (c: Cpu, i: Instr) => void;
/** Loads the second operand (register or memory) into slot B. */
export type Loader = (c: Cpu, i: Instr) => void;

function misaligned(access: 'read' | 'write'): GuestFault {
  // #GP for a misaligned 16-byte SSE operand; Linux reports SIGSEGV with si_addr 0.
  return new GuestFault(0, 'protection', access);
}

/** Reads 16 bytes at guest address a into S[o..o+3]. */
export function read128(c: Cpu, a: number, o: number): void {
  const m = c.mem;
  S[o] = m.read64(a);
  S[o + 1] = m.hi;
  S[o + 2] = m.read64(a + 8);
  S[o + 3] = m.hi;
}

/** Writes 16 bytes from x[o..o+3] to guest address a; a fault leaves memory unchanged. */
export function write128(c: Cpu, a: number, x: Int32Array, o: number): void {
  const m = c.mem;
  // A page-crossing write: probe the last byte first so that a fault on the second page writes nothing.
  if ((a & 0xfff) > 0xff0) m.write8(a + 15, m.read8(a + 15));
  m.write64(a, x[o], x[o + 1]);
  m.write64(a + 8, x[o + 2], x[o + 3]);
}

export function alignedEa(c: Cpu, i: Instr, access: 'read' | 'write'): number {
  const a = c.ea(i);
  if ((a & 15) !== 0) throw misaligned(access);
  return a;
}

function loadReg(c: Cpu, i: Instr): void {
  const x = c.xmm, s = i.rm << 2;
  S[4] = x[s]; S[5] = x[s + 1]; S[6] = x[s + 2]; S[7] = x[s + 3];
}
function loadMem128a(c: Cpu, i: Instr): void {
  read128(c, alignedEa(c, i, 'read'), B);
}
function loadMem128u(c: Cpu, i: Instr): void {
  read128(c, c.ea(i), B);
}
function loadMem64(c: Cpu, i: Instr): void {
  S[4] = c.mem.read64(c.ea(i));
  S[5] = c.mem.hi;
  S[6] = 0; S[7] = 0;
}
function loadMem32(c: Cpu, i: Instr): void {
  S[4] = c.mem.read32(c.ea(i));
  S[5] = 0; S[6] = 0; S[7] = 0;
}
function loadMem16(c: Cpu, i: Instr): void {
  S[4] = c.mem.read16(c.ea(i));
  S[5] = 0; S[6] = 0; S[7] = 0;
}

/** Width of the memory form of the second operand. */
export const enum Src {
  /** 16 bytes, must be 16-byte aligned (legacy SSE packed operand). */
  M128A = 0,
  /** 16 bytes, any alignment (movups, lddqu, pcmpXstrX). */
  M128U = 1,
  M64 = 2,
  M32 = 3,
  M16 = 4,
}

const MEM_LOADERS: Loader[] = [loadMem128a, loadMem128u, loadMem64, loadMem32, loadMem16];

/** The loader for this instruction's second operand, chosen at decode time. */
export function loader(i: Instr, src: Src): Loader {
  return i.isMem ? MEM_LOADERS[src] : loadReg;
}

// Exec functions are generated per (shape, kernel, loader) with new Function, so that each
// has its own call-site feedback: V8 then sees one kernel per function and inlines it,
// instead of one shared, megamorphic call site for every SSE instruction. They are
// cached, so decoding never compiles twice, and take everything else from (c, i).
const LOAD_A = 'const x = c.xmm, d = i.reg << 2; S[0] = x[d]; S[1] = x[d + 1]; S[2] = x[d + 2]; S[3] = x[d + 3];';
const LOAD_X0 = 'S[12] = x[0]; S[13] = x[1]; S[14] = x[2]; S[15] = x[3];';
const LOAD_B_REG = 'const s = i.rm << 2; S[4] = x[s]; S[5] = x[s + 1]; S[6] = x[s + 2]; S[7] = x[s + 3];';
const LOAD_B_MEM = 'load(c, i);';
const STORE_R = 'x[d] = S[8]; x[d + 1] = S[9]; x[d + 2] = S[10]; x[d + 3] = S[11];';

type Shape = 'binop' | 'binopX0' | 'readOnly';
const BODIES: Record<Shape, string> = {
  binop: `${LOAD_A} LOADB k(c, i); ${STORE_R}`,
  binopX0: `${LOAD_A} ${LOAD_X0} LOADB k(c, i); ${STORE_R}`,
  readOnly: `${LOAD_A} LOADB k(c, i);`,
};
const generated = new Map<string, Map<Kernel, ExecFn>>();

function specialise(shape: Shape, i: Instr, k: Kernel, src: Src): ExecFn {
  const key = `${shape}:${i.isMem ? src : 'reg'}`;
  let byKernel = generated.get(key);
  if (!byKernel) generated.set(key, (byKernel = new Map()));
  let f = byKernel.get(k);
  if (!f) {
    const body = BODIES[shape].replace('LOADB', i.isMem ? LOAD_B_MEM : LOAD_B_REG);
    f = new Function('S', 'k', 'load', `return function sse_${shape}(c, i) { ${body} };`)(S, k, loader(i, src)) as ExecFn;
    byKernel.set(k, f);
  }
  return f;
}

/** dest xmm ← kernel(dest, src): the shape of almost every SSE instruction. */
export function binop(i: Instr, k: Kernel, src: Src): ExecFn {
  return specialise('binop', i, k, src);
}

/** Like binop, with xmm0 also loaded into slot X (blendv, pblendvb). */
export function binopX0(i: Instr, k: Kernel, src: Src): ExecFn {
  return specialise('binopX0', i, k, src);
}

/** Reads both operands and runs the kernel without writing a register (ptest, comis). */
export function readOnly(i: Instr, k: Kernel, src: Src): ExecFn {
  return specialise('readOnly', i, k, src);
}
