/**
 * Arithmetic: fadd/fmul/fsub/fsubr/fdiv/fdivr in all operand forms, fsqrt,
 * frndint, fscale, fxtract, fprem, fprem1.
 */
import type { ExecFn } from '../instr.js';
import {
  add, classify, DE, div, DENORMAL, EMAX80, fromInt32, fromUint64, fx, I, INF, mul, normExp, PC64, propagateNaN,
  propagateNaN1, QNAN, R, roundPack, roundToInt, setResult, sqrt, ZE, ZERO, invalid, normInto,
} from './softfloat.js';
import {
  begin, C0, C1, C2, C3, commit, isEmpty, pcOf, phys, pop, pushR, rcOf, regHi, regLo, regSe, setCC, storeR,
  underflow, writeReg, mayStore, overflow,
} from './stack.js';
import type { MemLoad } from './loadstore.js';

/** A binary operation x op y (x = destination operand, y = source) into R. */
type BinOp = (xse: number, xhi: number, xlo: number, yse: number, yhi: number, ylo: number, pc: number, rc: number) => void;

const opAdd: BinOp = (a, b, c, d, e, f, pc, rc) => add(a, b, c, d, e, f, 0, pc, rc);
const opMul: BinOp = mul;
const opSub: BinOp = (a, b, c, d, e, f, pc, rc) => add(a, b, c, d, e, f, 0x8000, pc, rc);
const opSubr: BinOp = (a, b, c, d, e, f, pc, rc) => add(d, e, f, a, b, c, 0x8000, pc, rc);
const opDiv: BinOp = div;
const opDivr: BinOp = (a, b, c, d, e, f, pc, rc) => div(d, e, f, a, b, c, pc, rc);

/** Indexed by the ModRM /digit of the D8/DC memory forms (2 and 3 are compares). */
export const BINOPS: (BinOp | null)[] = [opAdd, opMul, null, null, opSub, opSubr, opDiv, opDivr];

/** ST(0) = ST(0) op mem. */
export function arithMem(kind: number, load: MemLoad): ExecFn {
  const op = BINOPS[kind]!;
  return (c, i) => {
    const x = c.x87, a = c.ea(i);
    begin(x, i);
    x.fdp = a;
    load(c, a);
    const p = x.top;
    if (isEmpty(x, p)) underflow();
    else op(regSe(x, p), regHi(x, p), regLo(x, p), R.se, R.hi, R.lo, pcOf(x), rcOf(x));
    storeR(x, p);
    commit(x);
  };
}

/**
 * Register forms. dstIsSti: the destination is ST(i) (DC/DE forms) rather
 * than ST(0) (D8 forms); kind is already mapped to "dest op src".
 */
export function arithReg(kind: number, dstIsSti: boolean, popAfter: boolean): ExecFn {
  const op = BINOPS[kind]!;
  return (c, i) => {
    const x = c.x87;
    begin(x, i);
    const p0 = x.top, pi = phys(x, i.sub);
    const d = dstIsSti ? pi : p0, s = dstIsSti ? p0 : pi;
    if (isEmpty(x, p0) || isEmpty(x, pi)) underflow();
    else op(regSe(x, d), regHi(x, d), regLo(x, d), regSe(x, s), regHi(x, s), regLo(x, s), pcOf(x), rcOf(x));
    if (storeR(x, d) && popAfter) pop(x);
    commit(x);
  };
}

/** A one-operand operation on ST(0) with the usual empty check. */
function unary(fn: (se: number, hi: number, lo: number, x: { fcw: number }) => void): ExecFn {
  return (c, i) => {
    const x = c.x87;
    begin(x, i);
    const p = x.top;
    if (isEmpty(x, p)) underflow();
    else fn(regSe(x, p), regHi(x, p), regLo(x, p), x);
    storeR(x, p);
    commit(x);
  };
}

export const fsqrt: ExecFn = unary((se, hi, lo, x) => sqrt(se, hi, lo, (x.fcw >>> 8) & 3, (x.fcw >>> 10) & 3));

export const frndint: ExecFn = unary((se, hi, lo, x) => {
  hi >>>= 0;
  lo >>>= 0;
  const cls = classify(se, hi, lo);
  if (cls >= QNAN) return propagateNaN1(se, hi, lo);
  if (cls === ZERO || cls === INF) return setResult(se, hi, lo);
  if (cls === DENORMAL) fx.exc |= DE;
  roundToInt(se, hi, lo, (x.fcw >>> 10) & 3);
  if (I.hi === -1 || (I.hi === hi && I.lo === lo && (se & 0x7fff) === 16383 + 63)) return setResult(se, hi, lo);
  fromUint64(se >>> 15, I.hi, I.lo);
});

/** ST(0) = ST(0) * 2^trunc(ST(1)). Precision control does not apply. */
export const fscale: ExecFn = (c, i) => {
  const x = c.x87;
  begin(x, i);
  const p0 = x.top, p1 = phys(x, 1);
  if (isEmpty(x, p0) || isEmpty(x, p1)) underflow();
  else scale(regSe(x, p0), regHi(x, p0), regLo(x, p0), regSe(x, p1), regHi(x, p1), regLo(x, p1), rcOf(x));
  storeR(x, p0);
  commit(x);
};

function scale(ase: number, ahi: number, alo: number, bse: number, bhi: number, blo: number, rc: number): void {
  const ca = classify(ase, ahi, alo), cb = classify(bse, bhi, blo);
  if (ca >= QNAN || cb >= QNAN) return propagateNaN(ase, ahi, alo, bse, bhi, blo);
  if (ca === DENORMAL || cb === DENORMAL) fx.exc |= DE;
  const sa = ase & 0x8000;
  if (cb === INF) {
    if (bse & 0x8000) {
      if (ca === INF) return invalid();
      return setResult(sa, 0, 0);
    }
    if (ca === ZERO) return invalid();
    return setResult(sa | 0x7fff, 0x80000000, 0);
  }
  if (ca === ZERO || ca === INF) return setResult(ase, ahi, alo);
  // n = trunc(ST(1)), clamped: beyond ±2^17 the result saturates anyway.
  let n = 0;
  if (cb !== ZERO) {
    const e = normExp(bse, bhi, blo);
    if (e >= 17) n = 1 << 17;
    else if (e >= 0) n = normHiOf(bse, bhi, blo) >>> (31 - e);
    if (bse & 0x8000) n = -n;
  }
  const ea = normExp(ase, ahi, alo);
  normInto(ase, ahi, alo);
  roundPack(sa >>> 15, ea + 16383 + n, R.hi, R.lo, 0, PC64, rc, EMAX80);
}

function normHiOf(se: number, hi: number, lo: number): number {
  normInto(se, hi, lo);
  return R.hi;
}

/** ST(0) → exponent; push significand. */
export const fxtract: ExecFn = (c, i) => {
  const x = c.x87;
  begin(x, i);
  const p = x.top;
  if (isEmpty(x, p)) {
    underflow();
    if (storeR(x, p)) pushR(x);
    return commit(x);
  }
  if (!isEmpty(x, (p - 1) & 7)) {
    // Stack overflow is detected first: the masked response leaves the indefinite in both.
    overflow();
    setResult(0xffff, 0xc0000000, 0);
    if (storeR(x, p)) pushR(x);
    return commit(x);
  }
  const se = regSe(x, p), hi = regHi(x, p), lo = regLo(x, p);
  const cls = classify(se, hi, lo);
  let eSe: number, eHi: number, eLo: number; // the exponent part
  let mSe: number, mHi: number, mLo: number; // the significand part
  if (cls >= QNAN) {
    propagateNaN1(se, hi, lo);
    eSe = mSe = R.se;
    eHi = mHi = R.hi;
    eLo = mLo = R.lo;
  } else if (cls === ZERO) {
    fx.exc |= ZE;
    eSe = 0xffff; eHi = 0x80000000; eLo = 0;
    mSe = se; mHi = 0; mLo = 0;
  } else if (cls === INF) {
    eSe = 0x7fff; eHi = 0x80000000; eLo = 0;
    mSe = se; mHi = hi; mLo = lo;
  } else {
    if (cls === DENORMAL) fx.exc |= DE;
    fromInt32(normExp(se, hi, lo));
    eSe = R.se; eHi = R.hi; eLo = R.lo;
    normInto(se, hi, lo);
    mSe = (se & 0x8000) | 16383; mHi = R.hi; mLo = R.lo;
  }
  if (mayStore(x)) {
    writeReg(x, p, eSe, eHi, eLo);
    setResult(mSe, mHi, mLo);
    pushR(x);
  }
  commit(x);
};

/**
 * fprem (round = false) / fprem1 (round = true): exact partial remainder.
 * When the exponent difference is below 64 the remainder is complete (C2 = 0)
 * and C0, C3, C1 receive quotient bits 2, 1, 0. Otherwise the reduction is
 * partial (C2 = 1): ST(0) is reduced by ST(1) * 2^(D - N) with N = 32..63
 * chosen as (D mod 32) + 32, which is what Intel and AMD implement.
 * Uses BigInt (rare path).
 */
export function fprem(round: boolean): ExecFn {
  return (c, i) => {
    const x = c.x87;
    begin(x, i);
    const p0 = x.top, p1 = phys(x, 1);
    let cc = 0;
    if (isEmpty(x, p0) || isEmpty(x, p1)) underflow();
    else cc = remainder(regSe(x, p0), regHi(x, p0), regLo(x, p0), regSe(x, p1), regHi(x, p1), regLo(x, p1), round);
    const stored = storeR(x, p0);
    commit(x);
    if (stored) setCC(x, C0 | C1 | C2 | C3, cc);
  };
}

function big64(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Computes the remainder into R; returns the condition bits. */
function remainder(ase: number, ahi: number, alo: number, bse: number, bhi: number, blo: number, round: boolean): number {
  const ca = classify(ase, ahi, alo), cb = classify(bse, bhi, blo);
  if (ca >= QNAN || cb >= QNAN) {
    propagateNaN(ase, ahi, alo, bse, bhi, blo);
    return 0;
  }
  if (ca === INF || cb === ZERO) {
    invalid();
    return 0;
  }
  if (ca === DENORMAL || cb === DENORMAL) fx.exc |= DE;
  if (ca === ZERO || cb === INF) {
    setResult(ase, ahi, alo);
    return 0;
  }
  const ea = normExp(ase, ahi, alo);
  normInto(ase, ahi, alo);
  const A = big64(R.hi, R.lo);
  const eb = normExp(bse, bhi, blo);
  normInto(bse, bhi, blo);
  const B = big64(R.hi, R.lo);
  const d = ea - eb;
  const sign = ase >>> 15;
  if (d < (round ? -1 : 0)) {
    normInto(ase, ahi, alo);
    roundPack(sign, ea + 16383, R.hi, R.lo, 0, PC64, 0, EMAX80);
    return 0;
  }
  let X: bigint, Y: bigint, unitExp: number, partial = false;
  if (d >= 64) {
    const n = (d % 32) + 32;
    X = A << BigInt(n);
    Y = B;
    unitExp = ea - 63 - n;
    partial = true;
  } else {
    const u = d < 0 ? -1 : 0;
    X = A << BigInt(d - u);
    Y = B << BigInt(-u);
    unitExp = eb - 63 + u;
  }
  let q = X / Y;
  let r = X - q * Y;
  let rsign = sign;
  if (round && !partial) {
    const twice = r * 2n;
    if (twice > Y || (twice === Y && (q & 1n) === 1n)) {
      q += 1n;
      r = Y - r;
      rsign ^= 1;
    }
  }
  packBig(rsign, r, unitExp);
  const ql = Number(q & 7n);
  const qbits = ((ql & 4) ? C0 : 0) | ((ql & 2) ? C3 : 0) | ((ql & 1) ? C1 : 0);
  return partial ? C2 : qbits;
}

/** Packs sign * r * 2^unitExp (r exact, < 2^66) into R. */
function packBig(sign: number, r: bigint, unitExp: number): void {
  if (r === 0n) return setResult(sign << 15, 0, 0);
  const bits = r.toString(2).length;
  // Align so that the top bit lands at bit 95 of hi:lo:x.
  const v = r << BigInt(96 - bits);
  const hi = Number((v >> 64n) & 0xffffffffn), lo = Number((v >> 32n) & 0xffffffffn), xw = Number(v & 0xffffffffn);
  roundPack(sign, unitExp + bits - 1 + 16383, hi, lo, xw, PC64, 0, EMAX80);
}
