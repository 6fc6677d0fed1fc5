/**
 * Exact IEEE-754 arithmetic for the cold paths: directed rounding (MXCSR.RC),
 * flush-to-zero, denormals-are-zero and exact exception flags. Operands are
 * decomposed into BigInt significands, the exact result (plus a sticky bit)
 * is computed and then rounded to single or double precision the way SSE
 * does it: tininess is detected after rounding, and with underflow masked UE
 * is raised only for an inexact tiny result (always under FTZ).
 *
 * BigInt is slow, but this path runs only for non-default MXCSR modes,
 * special operands, and until the program's first inexact operation.
 */
import { DAZ, DE, FTZ, IE, OE, PE, RC_SHIFT, RD, RN, RU, UE, ZE } from './mxcsr.js';

/** Exception flags raised by the last soft operation. */
export let softFlags = 0;

export const enum SoftOp { Add = 0, Sub = 1, Mul = 2, Div = 3, Sqrt = 4 }

const dv = new DataView(new ArrayBuffer(8));
const TWO52 = 4503599627370496;

/** Significand and exponent of a finite nonzero double: |x| = m * 2^e. */
let decM = 0n;
let decE = 0;
function decompose(x: number): void {
  dv.setFloat64(0, x);
  const hi = dv.getUint32(0), lo = dv.getUint32(4);
  const ex = (hi >>> 20) & 0x7ff;
  const frac = (hi & 0xfffff) * 4294967296 + lo;
  if (ex === 0) {
    decM = BigInt(frac);
    decE = -1074;
  } else {
    decM = BigInt(frac + TWO52);
    decE = ex - 1075;
  }
}

function bitLength(m: bigint): number {
  return m.toString(2).length;
}

export function isDenormal(x: number, single: boolean): boolean {
  const m = Math.abs(x);
  return m !== 0 && m < (single ? 1.1754943508222875e-38 : 2.2250738585072014e-308);
}

/** m * 2^q exactly (m is small enough that the result is representable). */
function scale(m: number, q: number): number {
  if (q >= -1022) return m * 2 ** q;
  return m * 2 ** -1022 * 2 ** (q + 1022);
}

let rndM = 0n;
let rndInexact = false;
/** Rounds m*2^e (+ sticky) to a multiple of 2^q; q - e must be ≥ 1. Result significand in rndM. */
function roundAt(m: bigint, e: number, sticky: boolean, q: number, rc: number, neg: boolean): void {
  const sh = BigInt(q - e);
  let kept = m >> sh;
  const rem = m - (kept << sh);
  const half = 1n << (sh - 1n);
  rndInexact = rem !== 0n || sticky;
  let up = false;
  switch (rc) {
    case RN: up = rem > half || (rem === half && (sticky || (kept & 1n) === 1n)); break;
    case RD: up = rndInexact && neg; break;
    case RU: up = rndInexact && !neg; break;
    default: up = false;
  }
  if (up) kept += 1n;
  rndM = kept;
}

/**
 * Rounds the exact value (-1)^neg * (m + sticky) * 2^e (m > 0) to single or
 * double precision under MXCSR mx; raises OE/UE/PE in softFlags.
 */
export function softRound(neg: boolean, m: bigint, e: number, sticky: boolean, single: boolean, mx: number): number {
  const p = single ? 24 : 53;
  const emin = single ? -126 : -1022;
  const emax = single ? 127 : 1023;
  const rc = (mx >> RC_SHIFT) & 3;
  let n = bitLength(m);
  if (n < p + 2) {
    m <<= BigInt(p + 2 - n);
    e -= p + 2 - n;
    n = p + 2;
  }
  const E = e + n - 1;
  // Round with an unbounded exponent first: decides overflow and tininess.
  roundAt(m, e, sticky, E - p + 1, rc, neg);
  const Er = rndM >> BigInt(p) !== 0n ? E + 1 : E;
  if (Er >= emin) {
    if (rndInexact) softFlags |= PE;
    if (Er > emax) {
      softFlags |= OE | PE;
      const toInf = rc === RN || (rc === RU && !neg) || (rc === RD && neg);
      const big = single ? 3.4028234663852886e38 : 1.7976931348623157e308;
      const v = toInf ? Infinity : big;
      return neg ? -v : v;
    }
    const v = scale(Number(rndM), E - p + 1);
    return neg ? -v : v;
  }
  // Tiny.
  if (mx & FTZ) {
    softFlags |= UE | PE;
    return neg ? -0 : 0;
  }
  roundAt(m, e, sticky, emin - p + 1, rc, neg);
  if (rndInexact) softFlags |= UE | PE;
  const v = scale(Number(rndM), emin - p + 1);
  return neg ? -v : v;
}

/** An integer (BigInt, any size) rounded to single/double under MXCSR; raises PE in softFlags. */
export function softFromInt(v: bigint, single: boolean, mx: number): number {
  softFlags = 0;
  if (v === 0n) return 0;
  const neg = v < 0n;
  return softRound(neg, neg ? -v : v, 0, false, single, mx);
}

/** Rounds a double to single precision under MXCSR (cvtsd2ss, cvtpd2ps); x is not NaN. */
export function softToSingle(x: number, mx: number): number {
  softFlags = 0;
  if (isDenormal(x, false)) {
    if (mx & DAZ) return x < 0 ? -0 : 0;
    softFlags |= DE;
  }
  if (x === 0 || !isFinite(x)) return x;
  decompose(x);
  return softRound(x < 0, decM, decE, false, true, mx);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  // Newton steps from a close start; then fix up by at most a few units.
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x;
}

/**
 * One IEEE operation on non-NaN operands, exactly rounded under MXCSR mx
 * (RC, FTZ, DAZ). Returns NaN for an invalid operation (the caller writes the
 * default NaN). Flags in softFlags.
 */
export function softArith(op: SoftOp, a: number, b: number, single: boolean, mx: number): number {
  const v = arith(op, a, b, single, mx);
  // Invalid and divide-by-zero take priority over the denormal-operand flag.
  if (softFlags & (IE | ZE)) softFlags &= ~DE;
  return v;
}
function arith(op: SoftOp, a: number, b: number, single: boolean, mx: number): number {
  softFlags = 0;
  if (isDenormal(a, single)) {
    if (mx & DAZ) a = a < 0 ? -0 : 0;
    else softFlags |= DE;
  }
  if (op !== SoftOp.Sqrt && isDenormal(b, single)) {
    if (mx & DAZ) b = b < 0 ? -0 : 0;
    else softFlags |= DE;
  }
  const rc = (mx >> RC_SHIFT) & 3;
  switch (op) {
    case SoftOp.Sub:
      b = -b;
    // falls through
    case SoftOp.Add: {
      if (!isFinite(a) || !isFinite(b)) {
        if (!isFinite(a) && !isFinite(b) && a !== b) return invalid();
        return isFinite(a) ? b : a;
      }
      if (a === 0 && b === 0) {
        // Exact zero: -0 only when both are -0, or under round-down when the signs differ.
        if (Object.is(a, b)) return a;
        return rc === RD ? -0 : 0;
      }
      if (a === 0) return roundValue(b, single, mx);
      if (b === 0) return roundValue(a, single, mx);
      decompose(a);
      const ma = a < 0 ? -decM : decM, ea = decE;
      decompose(b);
      const mb = b < 0 ? -decM : decM, eb = decE;
      const e = Math.min(ea, eb);
      const sum = (ma << BigInt(ea - e)) + (mb << BigInt(eb - e));
      if (sum === 0n) return rc === RD ? -0 : 0;
      return softRound(sum < 0n, sum < 0n ? -sum : sum, e, false, single, mx);
    }
    case SoftOp.Mul: {
      const neg = (a < 0 || Object.is(a, -0)) !== (b < 0 || Object.is(b, -0));
      if (!isFinite(a) || !isFinite(b)) {
        if (a === 0 || b === 0) return invalid();
        return neg ? -Infinity : Infinity;
      }
      if (a === 0 || b === 0) return neg ? -0 : 0;
      decompose(a);
      const ma = decM, ea = decE;
      decompose(b);
      return softRound(neg, ma * decM, ea + decE, false, single, mx);
    }
    case SoftOp.Div: {
      const neg = (a < 0 || Object.is(a, -0)) !== (b < 0 || Object.is(b, -0));
      if (!isFinite(a)) {
        if (!isFinite(b)) return invalid();
        return neg ? -Infinity : Infinity;
      }
      if (!isFinite(b)) return neg ? -0 : 0;
      if (b === 0) {
        if (a === 0) return invalid();
        softFlags |= ZE;
        return neg ? -Infinity : Infinity;
      }
      if (a === 0) return neg ? -0 : 0;
      decompose(a);
      const ma = decM, ea = decE;
      decompose(b);
      const mb = decM, eb = decE;
      const p = single ? 24 : 53;
      const k = Math.max(0, p + 3 + bitLength(mb) - bitLength(ma));
      const num = ma << BigInt(k);
      const q = num / mb;
      return softRound(neg, q, ea - eb - k, q * mb !== num, single, mx);
    }
    default: {
      // Sqrt
      if (a === 0) return a;
      if (a < 0) return invalid();
      if (a === Infinity) return a;
      decompose(a);
      let m = decM, e = decE;
      const p = single ? 24 : 53;
      let k = Math.max(0, 2 * (p + 3) - bitLength(m));
      if ((e - k) & 1) k++;
      m <<= BigInt(k);
      e -= k;
      const r = isqrt(m);
      return softRound(false, r, e / 2, r * r !== m, single, mx);
    }
  }
}

/** A finite value (already in the operation's format or wider) rounded to the format. */
function roundValue(x: number, single: boolean, mx: number): number {
  decompose(x);
  return softRound(x < 0, decM, decE, false, single, mx);
}

function invalid(): number {
  softFlags |= IE;
  return NaN;
}

/** Rounds x to an integer-valued double under rounding mode rc (RN: ties to even). */
export function roundInt(x: number, rc: number): number {
  switch (rc) {
    case RN: {
      if (Math.abs(x) >= TWO52) return x;
      const f = Math.floor(x);
      const d = x - f;
      const r = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
      return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
    }
    case RD: return Math.floor(x);
    case RU: return Math.ceil(x);
    default: return Math.trunc(x);
  }
}
