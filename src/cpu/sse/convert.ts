/**
 * Conversions between integers, singles and doubles, and the SSE4.1 round
 * instructions. Float → integer results honour MXCSR.RC (or truncate) and
 * give the "integer indefinite" value (0x80000000 / 0x8000000000000000) with
 * IE for NaN and out-of-range inputs; inexact results raise PE.
 */
import type { Cpu } from '../cpu.js';
import type { ExecFn, Instr } from '../instr.js';
import { F32, F64, S, Src, loader, type Kernel } from './scratch.js';
import { DAZ, DE, FTZ, IE, PE, RC_MASK, RC_SHIFT, RZ, norm64, res32 } from './mxcsr.js';
import { isDenormal, roundInt, softFlags, softFromInt, softToSingle } from './softfloat.js';

const TWO31 = 2147483648, TWO32 = 4294967296, TWO63 = 9223372036854775808;

/** DAZ: a denormal source counts as zero. */
function dazSrc(c: Cpu, x: number, single: boolean): number {
  return c.mxcsr & DAZ && isDenormal(x, single) ? 0 : x;
}

/** Float (as a double) → int32 under rounding mode rc. */
export function toInt32(c: Cpu, x: number, rc: number, single: boolean): number {
  if (x !== x) {
    c.mxcsr |= IE;
    return -TWO31;
  }
  x = dazSrc(c, x, single);
  const r = roundInt(x, rc);
  if (r >= TWO31 || r < -TWO31) {
    c.mxcsr |= IE;
    return -TWO31;
  }
  if (r !== x) c.mxcsr |= PE;
  return r | 0;
}

/** High half of the last toInt64 result. */
let hi64 = 0;
/** Float → int64 (low half returned, high half in hi64). */
export function toInt64(c: Cpu, x: number, rc: number, single: boolean): number {
  if (x !== x) {
    c.mxcsr |= IE;
    hi64 = -TWO31;
    return 0;
  }
  x = dazSrc(c, x, single);
  const r = roundInt(x, rc);
  if (r >= TWO63 || r < -TWO63) {
    c.mxcsr |= IE;
    hi64 = -TWO31;
    return 0;
  }
  if (r !== x) c.mxcsr |= PE;
  const h = Math.floor(r / TWO32);
  hi64 = h | 0;
  return (r - h * TWO32) | 0;
}

/** int32 → single under MXCSR (PE when inexact). */
function i32ToF32(c: Cpu, v: number): number {
  const f = Math.fround(v);
  if (f === v) return f;
  if (c.mxcsr & RC_MASK) {
    const r = softFromInt(BigInt(v), true, c.mxcsr);
    c.mxcsr |= softFlags;
    return r;
  }
  c.mxcsr |= PE;
  return f;
}

/** int64 (lo, hi) → double or single under MXCSR. */
function i64ToFloat(c: Cpu, lo: number, hi: number, single: boolean): number {
  const v = hi * TWO32 + (lo >>> 0); // correctly rounded to nearest (one rounding)
  if (hi >= -0x200000 && hi < 0x200000) return single ? i32ToF32Exact(c, v) : v; // |v| < 2^53: exact
  const exact = !single && Math.floor(v / TWO32) === hi && v - hi * TWO32 === lo >>> 0;
  if (exact) return v;
  if (!single && (c.mxcsr & RC_MASK) === 0) {
    c.mxcsr |= PE;
    return v;
  }
  const r = softFromInt((BigInt(hi) << 32n) | BigInt(lo >>> 0), single, c.mxcsr);
  c.mxcsr |= softFlags;
  return r;
}
/** An exactly represented integer double (|v| < 2^53) → single. */
function i32ToF32Exact(c: Cpu, v: number): number {
  const f = Math.fround(v);
  if (f === v) return f;
  if (c.mxcsr & RC_MASK) {
    const r = softFromInt(BigInt(v), true, c.mxcsr);
    c.mxcsr |= softFlags;
    return r;
  }
  c.mxcsr |= PE;
  return f;
}

/** cvtsi2sd / cvtsi2ss xmm, r/m32|r/m64: only the low element changes. */
export function cvtsi2f(i: Instr, single: boolean): ExecFn {
  const size = i.rexW ? 8 : 4;
  if (single) {
    if (size === 4) return (c, i) => { c.xmmF32[i.reg << 2] = i32ToF32(c, c.readRM(i, 4)); };
    return (c, i) => { const lo = c.readRM(i, 8); c.xmmF32[i.reg << 2] = i64ToFloat(c, lo, c.hi, true); };
  }
  if (size === 4) return (c, i) => { c.xmmF64[i.reg << 1] = c.readRM(i, 4); };
  return (c, i) => { const lo = c.readRM(i, 8); c.xmmF64[i.reg << 1] = i64ToFloat(c, lo, c.hi, false); };
}

/** cvt(t)sd2si / cvt(t)ss2si r32|r64, xmm/m64|m32. */
export function cvtf2si(i: Instr, single: boolean, trunc: boolean): ExecFn {
  const load = loader(i, single ? Src.M32 : Src.M64);
  const rc = (c: Cpu): number => (trunc ? RZ : (c.mxcsr >> RC_SHIFT) & 3);
  if (i.rexW) {
    return (c, i) => {
      load(c, i);
      const lo = toInt64(c, single ? F32[4] : F64[2], rc(c), single);
      c.setReg(i.reg, 8, lo, hi64);
    };
  }
  return (c, i) => {
    load(c, i);
    c.setReg(i.reg, 4, toInt32(c, single ? F32[4] : F64[2], rc(c), single), 0);
  };
}

// ------------------------------------------------------------------ float ↔ float

/** Double element di → single element fi (of the scratch views). */
function d2f(c: Cpu, di: number, fi: number): void {
  const x = F64[di];
  if (x !== x) {
    const hi = S[2 * di + 1], lo = S[2 * di];
    if (!(hi & 0x80000)) c.mxcsr |= IE;
    S[fi] = (hi & 0x80000000) | 0x7fc00000 | ((hi & 0x7ffff) << 3) | (lo >>> 29);
    return;
  }
  const f = Math.fround(x);
  const mx = c.mxcsr;
  if ((mx & (RC_MASK | FTZ | DAZ)) === 0 && res32(f) && norm64(x) && (f !== 0 || x === 0)) {
    if (f !== x) c.mxcsr |= PE;
    F32[fi] = f;
    return;
  }
  const v = softToSingle(x, mx);
  c.mxcsr |= softFlags;
  F32[fi] = v;
}
/** Single element fi → double element di (exact). */
function f2d(c: Cpu, fi: number, di: number): void {
  const x = F32[fi];
  if (x !== x) {
    const b = S[fi];
    if (!(b & 0x400000)) c.mxcsr |= IE;
    S[2 * di + 1] = (b & 0x80000000) | 0x7ff80000 | ((b & 0x7fffff) >>> 3);
    S[2 * di] = (b & 7) << 29;
    return;
  }
  if (isDenormal(x, true)) {
    if (c.mxcsr & DAZ) {
      F64[di] = x < 0 ? -0 : 0;
      return;
    }
    c.mxcsr |= DE;
  }
  F64[di] = x;
}

export const cvtsd2ss: Kernel = (c) => { S[9] = S[1]; S[10] = S[2]; S[11] = S[3]; d2f(c, 2, 8); };
export const cvtss2sd: Kernel = (c) => { S[10] = S[2]; S[11] = S[3]; f2d(c, 4, 4); };
export const cvtpd2ps: Kernel = (c) => { d2f(c, 2, 8); d2f(c, 3, 9); S[10] = 0; S[11] = 0; };
export const cvtps2pd: Kernel = (c) => { f2d(c, 4, 4); f2d(c, 5, 5); };

// ------------------------------------------------------------------ packed int ↔ float

export const cvtdq2ps: Kernel = (c) => {
  for (let k = 0; k < 4; k++) F32[8 + k] = i32ToF32(c, S[4 + k]);
};
export const cvtdq2pd: Kernel = () => {
  const a = S[4], b = S[5];
  F64[4] = a;
  F64[5] = b;
};
export function cvtps2dq(trunc: boolean): Kernel {
  return (c) => {
    const rc = trunc ? RZ : (c.mxcsr >> RC_SHIFT) & 3;
    for (let k = 0; k < 4; k++) S[8 + k] = toInt32(c, F32[4 + k], rc, true);
  };
}
export function cvtpd2dq(trunc: boolean): Kernel {
  return (c) => {
    const rc = trunc ? RZ : (c.mxcsr >> RC_SHIFT) & 3;
    S[8] = toInt32(c, F64[2], rc, false);
    S[9] = toInt32(c, F64[3], rc, false);
    S[10] = 0;
    S[11] = 0;
  };
}

// ------------------------------------------------------------------ roundss/sd/ps/pd

function roundMode(c: Cpu, imm: number): number {
  return imm & 4 ? (c.mxcsr >> RC_SHIFT) & 3 : imm & 3;
}
function round64(c: Cpu, bi: number, ri: number, imm: number): void {
  let x = F64[bi];
  if (x !== x) {
    const hi = S[2 * bi + 1];
    if (!(hi & 0x80000)) c.mxcsr |= IE;
    S[2 * ri] = S[2 * bi];
    S[2 * ri + 1] = hi | 0x80000;
    return;
  }
  if (c.mxcsr & DAZ && isDenormal(x, false)) x = x < 0 ? -0 : 0;
  const r = roundInt(x, roundMode(c, imm));
  if (r !== x && !(imm & 8)) c.mxcsr |= PE;
  F64[ri] = r;
}
function round32(c: Cpu, bi: number, ri: number, imm: number): void {
  let x = F32[bi];
  if (x !== x) {
    const b = S[bi];
    if (!(b & 0x400000)) c.mxcsr |= IE;
    S[ri] = b | 0x400000;
    return;
  }
  if (c.mxcsr & DAZ && isDenormal(x, true)) x = x < 0 ? -0 : 0;
  const r = roundInt(x, roundMode(c, imm));
  if (r !== x && !(imm & 8)) c.mxcsr |= PE;
  F32[ri] = r;
}
export const roundps: Kernel = (c, i) => { for (let k = 0; k < 4; k++) round32(c, 4 + k, 8 + k, i.imm); };
export const roundpd: Kernel = (c, i) => { round64(c, 2, 4, i.imm); round64(c, 3, 5, i.imm); };
export const roundss: Kernel = (c, i) => { S[9] = S[1]; S[10] = S[2]; S[11] = S[3]; round32(c, 4, 8, i.imm); };
export const roundsd: Kernel = (c, i) => { S[10] = S[2]; S[11] = S[3]; round64(c, 2, 4, i.imm); };
