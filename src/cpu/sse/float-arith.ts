/**
 * Scalar/packed float arithmetic on the scratch slots. An element operation
 * `(c, ai, bi, ri)` reads float elements ai and bi of the scratch views and
 * writes element ri; packed and scalar kernels are loops over it.
 *
 * Every element operation has a fast path (plain JavaScript arithmetic, which
 * is IEEE round-to-nearest; Math.fround for single precision, where double
 * rounding is innocuous for + - * / sqrt) taken when MXCSR is in its common
 * state and operands and result are normal. Everything else — NaNs, infinities,
 * denormals, overflow, underflow, directed rounding, FTZ, DAZ, the first
 * inexact result — takes `slow64`/`slow32`, which applies the SSE NaN rules and
 * uses exact checks or the BigInt soft-float to get results and flags right.
 */
import type { Cpu } from '../cpu.js';
import { F32, F64, S, type Kernel } from './scratch.js';
import { DAZ, DE, FAST_MASK, FAST_VALUE, FTZ, IE, PE, RC_MASK, norm32, norm64, res32, res64 } from './mxcsr.js';
import { SoftOp, isDenormal, softArith, softFlags } from './softfloat.js';

export type Elem = (c: Cpu, ai: number, bi: number, ri: number) => void;

const DEFAULT_NAN64_HI = 0xfff80000 | 0;
const DEFAULT_NAN32 = 0xffc00000 | 0;

// ------------------------------------------------------------------ NaN rules

/** A NaN operand decides the result: the first operand's NaN wins, quieted; IE for any SNaN. */
export function propagateNaN64(c: Cpu, ai: number, bi: number, ri: number): void {
  const aN = F64[ai] !== F64[ai], bN = F64[bi] !== F64[bi];
  const ah = S[2 * ai + 1], bh = S[2 * bi + 1];
  if ((aN && !(ah & 0x80000)) || (bN && !(bh & 0x80000))) c.mxcsr |= IE;
  const s = aN ? ai : bi;
  S[2 * ri] = S[2 * s];
  S[2 * ri + 1] = (aN ? ah : bh) | 0x80000;
}
export function propagateNaN32(c: Cpu, ai: number, bi: number, ri: number): void {
  const aN = F32[ai] !== F32[ai], bN = F32[bi] !== F32[bi];
  const a = S[ai], b = S[bi];
  if ((aN && !(a & 0x400000)) || (bN && !(b & 0x400000))) c.mxcsr |= IE;
  S[ri] = (aN ? a : b) | 0x400000;
}
export function defaultNaN64(ri: number): void {
  S[2 * ri] = 0;
  S[2 * ri + 1] = DEFAULT_NAN64_HI;
}
export function defaultNaN32(ri: number): void {
  S[ri] = DEFAULT_NAN32;
}

// ------------------------------------------------------------------ exactness checks

const SPLIT = 134217729; // 2^27 + 1
/** a*b - p exactly (Dekker), valid when no partial product overflows or underflows. */
function prodErr(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b), bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}
const BIG = 2 ** 995, TINY = 2 ** -969, BIGP = 2 ** 1000;

/**
 * For round-to-nearest with normal operands and a normal result r: 1 if r is
 * exact, 0 if inexact, -1 if it cannot tell cheaply (range too extreme).
 */
function exact64(op: SoftOp, a: number, b: number, r: number): number {
  switch (op) {
    case SoftOp.Sub:
      b = -b;
    // falls through
    case SoftOp.Add: {
      const bb = r - a;
      return a - (r - bb) + (b - bb) === 0 ? 1 : 0;
    }
    case SoftOp.Mul: {
      if (a === 0 || b === 0) return 1;
      if (r === 0 || Math.abs(a) >= BIG || Math.abs(b) >= BIG || Math.abs(r) < TINY || Math.abs(r) >= BIGP) return -1;
      return prodErr(a, b, r) === 0 ? 1 : 0;
    }
    case SoftOp.Div: {
      if (b === 0) return -1;
      if (a === 0) return 1;
      if (r === 0 || Math.abs(r) >= BIG || Math.abs(b) >= BIG || Math.abs(a) < TINY || Math.abs(a) >= BIGP) return -1;
      const p = r * b;
      return p === a && prodErr(r, b, p) === 0 ? 1 : 0;
    }
    default: {
      if (b === 0) return 1;
      if (b < 0 || b < TINY) return -1;
      const p = r * r;
      return p === b && prodErr(r, r, p) === 0 ? 1 : 0;
    }
  }
}

/** Same for single precision: r is the rounded single result; products of singles are exact doubles. */
function exact32(op: SoftOp, a: number, b: number, r: number): number {
  switch (op) {
    case SoftOp.Sub:
      b = -b;
    // falls through
    case SoftOp.Add: {
      const s = a + b;
      const bb = s - a;
      return a - (s - bb) + (b - bb) === 0 && s === r ? 1 : 0;
    }
    case SoftOp.Mul:
      if (r === 0 && a !== 0 && b !== 0) return -1; // underflow: UE is at stake
      return a * b === r ? 1 : 0;
    case SoftOp.Div:
      if (b === 0) return -1;
      if (a !== 0 && r === 0) return -1;
      return r * b === a ? 1 : 0;
    default:
      if (b < 0) return -1;
      return r * r === b ? 1 : 0;
  }
}

// ------------------------------------------------------------------ slow paths

/** Everything the fast path declined. For sqrt the operand is bi (ai is ignored). */
function slow64(c: Cpu, op: SoftOp, ai: number, bi: number, ri: number, r: number): void {
  const sq = op === SoftOp.Sqrt;
  const a = F64[sq ? bi : ai], b = F64[bi];
  if (a !== a || b !== b) {
    if (sq) propagateNaN64(c, bi, bi, ri);
    else propagateNaN64(c, ai, bi, ri);
    return;
  }
  const mx = c.mxcsr;
  if ((mx & (RC_MASK | FTZ | DAZ)) === 0 && r === r && res64(r) && norm64(a) && norm64(b)) {
    const ex = exact64(op, a, b, r);
    if (ex >= 0) {
      if (ex === 0) c.mxcsr |= PE;
      F64[ri] = r;
      return;
    }
  }
  const v = softArith(op, a, b, false, mx);
  c.mxcsr |= softFlags;
  if (v !== v) defaultNaN64(ri);
  else F64[ri] = v;
}

function slow32(c: Cpu, op: SoftOp, ai: number, bi: number, ri: number, r: number): void {
  const sq = op === SoftOp.Sqrt;
  const a = F32[sq ? bi : ai], b = F32[bi];
  if (a !== a || b !== b) {
    if (sq) propagateNaN32(c, bi, bi, ri);
    else propagateNaN32(c, ai, bi, ri);
    return;
  }
  const mx = c.mxcsr;
  if ((mx & (RC_MASK | FTZ | DAZ)) === 0 && r === r && res32(r) && norm32(a) && norm32(b)) {
    const ex = exact32(op, a, b, r);
    if (ex >= 0) {
      if (ex === 0) c.mxcsr |= PE;
      F32[ri] = r;
      return;
    }
  }
  const v = softArith(op, a, b, true, mx);
  c.mxcsr |= softFlags;
  if (v !== v) defaultNaN32(ri);
  else F32[ri] = v;
}

// ------------------------------------------------------------------ element operations

export function add64(c: Cpu, ai: number, bi: number, ri: number): void {
  const a = F64[ai], b = F64[bi], r = a + b;
  if ((c.mxcsr & FAST_MASK) === FAST_VALUE && res64(r) && norm64(a) && norm64(b)) F64[ri] = r;
  else slow64(c, SoftOp.Add, ai, bi, ri, r);
}
export function sub64(c: Cpu, ai: number, bi: number, ri: number): void {
  const a = F64[ai], b = F64[bi], r = a - b;
  if ((c.mxcsr & FAST_MASK) === FAST_VALUE && res64(r) && norm64(a) && norm64(b)) F64[ri] = r;
  else slow64(c, SoftOp.Sub, ai, bi, ri, r);
}
export function mul64(c: Cpu, ai: number, bi: number, ri: number): void {
  const a = F64[ai], b = F64[bi], r = a * b;
  if ((c.mxcsr & FAST_MASK) === FAST_VALUE && res64(r) && norm64(a) && norm64(b) && (r !== 0 || a === 0 || b === 0)) F64[ri] = r;
  else slow64(c, SoftOp.Mul, ai, bi, ri, r);
}
export function div64(c: Cpu, ai: number, bi: number, ri: number): void {
  const a = F64[ai], b = F64[bi], r = a / b;
  if ((c.mxcsr & FAST_MASK) === FAST_VALUE && b !== 0 && res64(r) && norm64(a) && norm64(b) && (r !== 0 || a === 0)) F64[ri] = r;
  else slow64(c, SoftOp.Div, ai, bi, ri, r);
}
/** sqrt of element bi (ai unused). */
export function sqrt64(c: Cpu, ai: number, bi: number, ri: number): void {
  const b = F64[bi], r = Math.sqrt(b);
  if ((c.mxcsr & FAST_MASK) === FAST_VALUE && b >= 0 && norm64(b)) F64[ri] = r;
  else slow64(c, SoftOp.Sqrt, ai, bi, ri, r);
}

export function add32(c: Cpu, ai: number, bi: number, ri: number): void {
  const a = F32[ai], b = F32[bi], r = Math.fround(a + b);
  if ((c.mxcsr & FAST_MASK) === FAST_VALUE && res32(r) && norm32(a) && norm32(b)) F32[ri] = r;
  else slow32(c, SoftOp.Add, ai, bi, ri, r);
}
export function sub32(c: Cpu, ai: number, bi: number, ri: number): void {
  const a = F32[ai], b = F32[bi], r = Math.fround(a - b);
  if ((c.mxcsr & FAST_MASK) === FAST_VALUE && res32(r) && norm32(a) && norm32(b)) F32[ri] = r;
  else slow32(c, SoftOp.Sub, ai, bi, ri, r);
}
export function mul32(c: Cpu, ai: number, bi: number, ri: number): void {
  const a = F32[ai], b = F32[bi], r = Math.fround(a * b);
  if ((c.mxcsr & FAST_MASK) === FAST_VALUE && res32(r) && norm32(a) && norm32(b) && (r !== 0 || a === 0 || b === 0)) F32[ri] = r;
  else slow32(c, SoftOp.Mul, ai, bi, ri, r);
}
export function div32(c: Cpu, ai: number, bi: number, ri: number): void {
  const a = F32[ai], b = F32[bi], r = Math.fround(a / b);
  if ((c.mxcsr & FAST_MASK) === FAST_VALUE && b !== 0 && res32(r) && norm32(a) && norm32(b) && (r !== 0 || a === 0)) F32[ri] = r;
  else slow32(c, SoftOp.Div, ai, bi, ri, r);
}
export function sqrt32(c: Cpu, ai: number, bi: number, ri: number): void {
  const b = F32[bi], r = Math.fround(Math.sqrt(b));
  if ((c.mxcsr & FAST_MASK) === FAST_VALUE && b >= 0 && norm32(b)) F32[ri] = r;
  else slow32(c, SoftOp.Sqrt, ai, bi, ri, r);
}

/** An operand of a non-rounding operation (min/max/compare): DAZ flushes a denormal to zero, otherwise DE. */
export function dazIn(c: Cpu, x: number, single: boolean): number {
  if (isDenormal(x, single)) {
    if (c.mxcsr & DAZ) return x < 0 ? -0 : 0;
    c.mxcsr |= DE;
  }
  return x;
}

/** min/max with a NaN operand: IE, and the second operand is the result (flushed to zero by DAZ). */
function nanMinMax64(c: Cpu, bi: number, ri: number): void {
  c.mxcsr |= IE;
  const b = F64[bi];
  if (c.mxcsr & DAZ && isDenormal(b, false)) F64[ri] = b < 0 ? -0 : 0;
  else { S[2 * ri] = S[2 * bi]; S[2 * ri + 1] = S[2 * bi + 1]; }
}
function nanMinMax32(c: Cpu, bi: number, ri: number): void {
  c.mxcsr |= IE;
  const b = F32[bi];
  if (c.mxcsr & DAZ && isDenormal(b, true)) F32[ri] = b < 0 ? -0 : 0;
  else S[ri] = S[bi];
}

/** max: a > b ? a : b; any NaN or equal operands (±0) give the second operand unchanged. */
export function max64(c: Cpu, ai: number, bi: number, ri: number): void {
  let a = F64[ai], b = F64[bi];
  if (a !== a || b !== b) {
    nanMinMax64(c, bi, ri);
    return;
  }
  if (!norm64(a) || !norm64(b)) { a = dazIn(c, a, false); b = dazIn(c, b, false); }
  F64[ri] = a > b ? a : b;
}
export function min64(c: Cpu, ai: number, bi: number, ri: number): void {
  let a = F64[ai], b = F64[bi];
  if (a !== a || b !== b) {
    nanMinMax64(c, bi, ri);
    return;
  }
  if (!norm64(a) || !norm64(b)) { a = dazIn(c, a, false); b = dazIn(c, b, false); }
  F64[ri] = a < b ? a : b;
}
export function max32(c: Cpu, ai: number, bi: number, ri: number): void {
  let a = F32[ai], b = F32[bi];
  if (a !== a || b !== b) {
    nanMinMax32(c, bi, ri);
    return;
  }
  if (!norm32(a) || !norm32(b)) { a = dazIn(c, a, true); b = dazIn(c, b, true); }
  F32[ri] = a > b ? a : b;
}
export function min32(c: Cpu, ai: number, bi: number, ri: number): void {
  let a = F32[ai], b = F32[bi];
  if (a !== a || b !== b) {
    nanMinMax32(c, bi, ri);
    return;
  }
  if (!norm32(a) || !norm32(b)) { a = dazIn(c, a, true); b = dazIn(c, b, true); }
  F32[ri] = a < b ? a : b;
}

// ------------------------------------------------------------------ kernels

/** Element indices: doubles A = 0,1  B = 2,3  R = 4,5  X = 6,7; singles A = 0..3  B = 4..7  R = 8..11  X = 12..15. */
export function packed64(op: Elem): Kernel {
  return (c) => {
    op(c, 0, 2, 4);
    op(c, 1, 3, 5);
  };
}
export function scalar64(op: Elem): Kernel {
  return (c) => {
    S[10] = S[2];
    S[11] = S[3];
    op(c, 0, 2, 4);
  };
}
export function packed32(op: Elem): Kernel {
  return (c) => {
    op(c, 0, 4, 8);
    op(c, 1, 5, 9);
    op(c, 2, 6, 10);
    op(c, 3, 7, 11);
  };
}
export function scalar32(op: Elem): Kernel {
  return (c) => {
    S[9] = S[1];
    S[10] = S[2];
    S[11] = S[3];
    op(c, 0, 4, 8);
  };
}

export const haddpd: Kernel = (c) => { add64(c, 0, 1, 4); add64(c, 2, 3, 5); };
export const hsubpd: Kernel = (c) => { sub64(c, 0, 1, 4); sub64(c, 2, 3, 5); };
export const haddps: Kernel = (c) => { add32(c, 0, 1, 8); add32(c, 2, 3, 9); add32(c, 4, 5, 10); add32(c, 6, 7, 11); };
export const hsubps: Kernel = (c) => { sub32(c, 0, 1, 8); sub32(c, 2, 3, 9); sub32(c, 4, 5, 10); sub32(c, 6, 7, 11); };
export const addsubpd: Kernel = (c) => { sub64(c, 0, 2, 4); add64(c, 1, 3, 5); };
export const addsubps: Kernel = (c) => { sub32(c, 0, 4, 8); add32(c, 1, 5, 9); sub32(c, 2, 6, 10); add32(c, 3, 7, 11); };

/** dpps: masked products rounded to single, summed pairwise ((p0+p1)+(p2+p3)), broadcast by imm[3:0]. */
export const dpps: Kernel = (c, i) => {
  const imm = i.imm;
  for (let k = 0; k < 4; k++) {
    if (imm & (16 << k)) mul32(c, k, 4 + k, 12 + k);
    else S[12 + k] = 0;
  }
  add32(c, 12, 13, 12);
  add32(c, 14, 15, 13);
  add32(c, 12, 13, 12);
  const v = S[12];
  for (let k = 0; k < 4; k++) S[8 + k] = imm & (1 << k) ? v : 0;
};
/** dppd: the same for two doubles. */
export const dppd: Kernel = (c, i) => {
  const imm = i.imm;
  for (let k = 0; k < 2; k++) {
    if (imm & (16 << k)) mul64(c, k, 2 + k, 6 + k);
    else { S[12 + 2 * k] = 0; S[13 + 2 * k] = 0; }
  }
  add64(c, 6, 7, 6);
  const lo = S[12], hi = S[13];
  for (let k = 0; k < 2; k++) {
    const on = imm & (1 << k);
    S[8 + 2 * k] = on ? lo : 0;
    S[9 + 2 * k] = on ? hi : 0;
  }
};

/** rcpps/rsqrtps: hardware gives a ~12-bit approximation whose exact bits differ between vendors; this is the exact value rounded to single. */
export function rcp32(c: Cpu, ai: number, bi: number, ri: number): void {
  approx32(bi, ri, false);
}
export function rsqrt32(c: Cpu, ai: number, bi: number, ri: number): void {
  approx32(bi, ri, true);
}
function approx32(bi: number, ri: number, sqrt: boolean): void {
  let x = F32[bi];
  if (x !== x) { S[ri] = S[bi] | 0x400000; return; }
  if (isDenormal(x, true)) x = x < 0 ? -0 : 0; // denormal inputs count as zero
  if (sqrt && x < 0) { S[ri] = DEFAULT_NAN32; return; }
  let r = Math.fround(sqrt ? 1 / Math.sqrt(x) : 1 / x);
  // Results at or below the smallest normal come out as zero (rcp of |x| >= 2^126).
  if (Math.abs(r) <= 1.1754943508222875e-38) r = r < 0 || Object.is(r, -0) ? -0 : 0;
  F32[ri] = r;
}
