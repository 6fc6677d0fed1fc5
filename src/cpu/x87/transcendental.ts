/**
 * Transcendental instructions: f2xm1, fyl2x, fyl2xp1, fpatan, fsin, fcos,
 * fsincos, fptan. Rare, so they use BigInt (bigfloat.ts): each result is
 * computed with ~150 good bits and then rounded once with the current
 * rounding control (precision control does not apply), so results are
 * correctly rounded with respect to the function the hardware implements.
 *
 * fsin/fcos/fsincos/fptan reduce the argument with the 66-bit pi the x87
 * uses (Intel and AMD alike), so e.g. fsin(pi80) = -2^-64 exactly as on
 * hardware, not the true sin. Where the hardware's own polynomial is not
 * correctly rounded, results can differ from it in the last bit (about 1 ulp;
 * the tests allow 1 ulp for these instructions only). Arguments with
 * |x| >= 2^63 set C2 and leave ST(0) unchanged, as on hardware.
 */
import type { ExecFn } from '../instr.js';
import type { X87State } from '../x87-state.js';
import * as B from './bigfloat.js';
import type { BF } from './bigfloat.js';
import {
  classify, DE, DENORMAL, fx, IE, INF, invalid, propagateNaN, propagateNaN1, QNAN, R, setResult, ZE, ZERO, normExp,
} from './softfloat.js';
import { begin, C2, commit, isEmpty, overflow, phys, pop, pushR, rcOf, regHi, regLo, regSe, setCC, storeR, underflow, writeReg } from './stack.js';

function isInteger(v: BF): boolean {
  if (v.e >= 0 || v.m === 0n) return true;
  const k = BigInt(-v.e);
  const a = v.m < 0n ? -v.m : v.m;
  return (a & ((1n << k) - 1n)) === 0n;
}

function halfPi(): BF {
  return { m: B.PI.m, e: B.PI.e - 1 };
}

// ------------------------------------------------------------------ f2xm1

/**
 * 2^x - 1. Within the architectural range |x| <= 1 this is always computed
 * by the series (hardware is inexact even at x = ±1: f2xm1(1) = 1 - 2^-64).
 */
function exp2m1(x: BF): BF {
  const one = B.fromInt(1);
  if (!B.absLess(one, x)) return B.expm1(B.mul(x, B.LN2()));
  if (isInteger(x)) {
    const n = Math.max(-20000, Math.min(20000, Number(x.m) * 2 ** x.e));
    return B.sub({ m: 1n, e: n }, one);
  }
  // Outside the architectural range |x| <= 1: 2^n * 2^f - 1 with |f| <= 1/2.
  let n = Number(x.m >> BigInt(-x.e)); // floor
  n = Math.max(-20000, Math.min(20000, n));
  const f = B.sub(x, B.fromInt(n));
  const p = B.add(B.expm1(B.mul(f, B.LN2())), one);
  return B.sub({ m: p.m, e: p.e + n }, one);
}

export const f2xm1: ExecFn = (c, i) => {
  const x = c.x87;
  begin(x, i);
  const p = x.top;
  if (isEmpty(x, p)) underflow();
  else {
    const se = regSe(x, p), hi = regHi(x, p), lo = regLo(x, p);
    const cls = classify(se, hi, lo);
    if (cls >= QNAN) propagateNaN1(se, hi, lo);
    else if (cls === ZERO) setResult(se, 0, 0);
    else if (cls === INF) setResult(se & 0x8000 ? 0xbfff : se, 0x80000000, 0); // 2^-inf - 1 = -1
    else {
      if (cls === DENORMAL) fx.exc |= DE;
      B.toX87(exp2m1(B.fromX87(se, hi, lo)), rcOf(x));
    }
  }
  storeR(x, p);
  commit(x);
};

// ------------------------------------------------------------------ two-operand: result in ST(1), pop

/** Runs fn(x = ST(0), y = ST(1)) → R, stores into ST(1) and pops. */
function binaryPop(fn: (xse: number, xhi: number, xlo: number, yse: number, yhi: number, ylo: number, rc: number) => void): ExecFn {
  return (c, i) => {
    const x = c.x87;
    begin(x, i);
    const p0 = x.top, p1 = phys(x, 1);
    if (isEmpty(x, p0) || isEmpty(x, p1)) underflow();
    else fn(regSe(x, p0), regHi(x, p0) >>> 0, regLo(x, p0) >>> 0, regSe(x, p1), regHi(x, p1) >>> 0, regLo(x, p1) >>> 0, rcOf(x));
    if (storeR(x, p1)) pop(x);
    commit(x);
  };
}

function signedInf(sign: number): void {
  setResult((sign << 15) | 0x7fff, 0x80000000, 0);
}
function signedZero(sign: number): void {
  setResult(sign << 15, 0, 0);
}

/** log2 of a positive finite value (exact for powers of two). */
function log2(se: number, hi: number, lo: number): BF {
  if (hi === 0x80000000 && lo === 0 && (se & 0x7fff) !== 0) return B.fromInt((se & 0x7fff) - 16383);
  return B.div(B.ln(B.fromX87(se, hi, lo)), B.LN2());
}

/** Whether a positive finite value is below 1. */
function belowOne(se: number, hi: number, lo: number): boolean {
  return normExp(se, hi, lo) < 0;
}

export const fyl2x: ExecFn = binaryPop((xse, xhi, xlo, yse, yhi, ylo, rc) => {
  const cx = classify(xse, xhi, xlo), cy = classify(yse, yhi, ylo);
  if (cx >= QNAN || cy >= QNAN) return propagateNaN(xse, xhi, xlo, yse, yhi, ylo);
  const sy = yse >>> 15;
  if (xse & 0x8000 && cx !== ZERO) return invalid();
  if (cx === ZERO) {
    if (cy === ZERO) return invalid();
    if (cy !== INF) fx.exc |= ZE; // takes precedence over DE
    return signedInf(sy ^ 1);
  }
  if (cx === DENORMAL || cy === DENORMAL) fx.exc |= DE;
  if (cx === INF) {
    if (cy === ZERO) return invalid();
    return signedInf(sy);
  }
  const isOne = (xse & 0x7fff) === 16383 && xhi === 0x80000000 && xlo === 0;
  if (cy === INF) {
    if (isOne) return invalid();
    return signedInf(sy ^ (belowOne(xse, xhi, xlo) ? 1 : 0));
  }
  if (cy === ZERO || isOne) return signedZero(sy ^ (cy === ZERO && belowOne(xse, xhi, xlo) ? 1 : 0));
  B.toX87(B.mul(B.fromX87(yse, yhi, ylo), log2(xse, xhi, xlo)), rc);
});

export const fyl2xp1: ExecFn = binaryPop((xse, xhi, xlo, yse, yhi, ylo, rc) => {
  const cx = classify(xse, xhi, xlo), cy = classify(yse, yhi, ylo);
  if (cx >= QNAN || cy >= QNAN) return propagateNaN(xse, xhi, xlo, yse, yhi, ylo);
  if (cx === DENORMAL || cy === DENORMAL) fx.exc |= DE;
  const sx = xse >>> 15, sy = yse >>> 15;
  if (cx === ZERO) {
    if (cy === INF) return invalid();
    return signedZero(sx ^ sy);
  }
  if (cx === INF) {
    if (sx || cy === ZERO) return invalid();
    return signedInf(sy);
  }
  const xv = B.fromX87(xse, xhi, xlo);
  // Outside the architectural range: undefined on hardware; log2(1 + x) needs x > -1.
  if (sx && !B.absLess(xv, B.fromInt(1))) return invalid();
  if (cy === INF) return signedInf(sy ^ sx);
  if (cy === ZERO) return signedZero(sx ^ sy);
  B.toX87(B.mul(B.fromX87(yse, yhi, ylo), B.div(B.ln1p(xv), B.LN2())), rc);
});

export const fpatan: ExecFn = binaryPop((xse, xhi, xlo, yse, yhi, ylo, rc) => {
  const cx = classify(xse, xhi, xlo), cy = classify(yse, yhi, ylo);
  if (cx >= QNAN || cy >= QNAN) return propagateNaN(xse, xhi, xlo, yse, yhi, ylo);
  if (cx === DENORMAL || cy === DENORMAL) fx.exc |= DE;
  const sx = xse >>> 15, sy = yse >>> 15;
  let r: BF;
  if (cy === ZERO) {
    if (!sx) return signedZero(sy);
    r = B.PI;
  } else if (cy === INF) {
    if (cx === INF) r = sx ? B.mul(B.PI, { m: 3n, e: -2 }) : { m: B.PI.m, e: B.PI.e - 2 };
    else r = halfPi();
  } else if (cx === ZERO) r = halfPi();
  else if (cx === INF) {
    if (!sx) return signedZero(sy);
    r = B.PI;
  } else {
    const yv = B.abs(B.fromX87(yse, yhi, ylo)), xv = B.fromX87(xse, xhi, xlo);
    r = B.atan(B.div(yv, B.abs(xv)));
    if (sx) r = B.sub(B.PI, r);
  }
  B.toX87(sy ? B.neg(r) : r, rc);
});

// ------------------------------------------------------------------ sin, cos, tan

/** Result of the reduction: r = x - n * pi66/2 (exact), n mod 4. */
let redR: BF = B.ZERO_BF;
let redQ = 0;

function reduce(v: BF): void {
  const neg = v.m < 0n;
  const m = neg ? -v.m : v.m;
  // n = round(|x| / (pi66 / 2)); pi66 / 2 = PI66.m * 2^-65.
  let num = m, den = B.PI66.m;
  const sh = v.e + 65;
  if (sh >= 0) num <<= BigInt(sh);
  else den <<= BigInt(-sh);
  const n = (2n * num + den) / (2n * den);
  const e = Math.min(v.e, -65);
  let r = (m << BigInt(v.e - e)) - ((n * B.PI66.m) << BigInt(-65 - e));
  if (neg) r = -r;
  redR = B.mk(r, e);
  redQ = Number((neg ? -n : n) & 3n);
}

function sinOfReduced(): BF {
  switch (redQ) {
    case 0: return B.sinSeries(redR);
    case 1: return B.cosSeries(redR);
    case 2: return B.neg(B.sinSeries(redR));
    default: return B.neg(B.cosSeries(redR));
  }
}
function cosOfReduced(): BF {
  switch (redQ) {
    case 0: return B.cosSeries(redR);
    case 1: return B.neg(B.sinSeries(redR));
    case 2: return B.neg(B.cosSeries(redR));
    default: return B.sinSeries(redR);
  }
}

/** Whether ST(0) is outside the reduction range (|x| >= 2^63): C2 = 1, nothing changes. */
function outOfRange(se: number): boolean {
  return (se & 0x7fff) >= 16383 + 63 && (se & 0x7fff) !== 0x7fff;
}

/** fsin (kind 0) and fcos (kind 1): one result, replaces ST(0). */
function sinCos(kind: number): ExecFn {
  return (c, i) => {
    const x = c.x87;
    begin(x, i);
    const p = x.top;
    let c2 = 0;
    if (isEmpty(x, p)) underflow();
    else {
      const se = regSe(x, p), hi = regHi(x, p), lo = regLo(x, p);
      const cls = classify(se, hi, lo);
      if (cls >= QNAN) propagateNaN1(se, hi, lo);
      else if (cls === INF) invalid();
      else if (cls === ZERO) setResult(kind === 0 ? se : 0x3fff, kind === 0 ? 0 : 0x80000000, 0);
      else if (outOfRange(se)) c2 = C2;
      else {
        if (cls === DENORMAL) fx.exc |= DE;
        reduce(B.fromX87(se, hi, lo));
        B.toX87(kind === 0 ? sinOfReduced() : cosOfReduced(), rcOf(x));
      }
    }
    if (c2 === 0) storeR(x, p);
    commit(x);
    setCC(x, C2, c2);
  };
}

export const fsin = sinCos(0);
export const fcos = sinCos(1);

/**
 * fptan (kind 0: ST(0) = tan, push 1.0) and fsincos (kind 1: ST(0) = sin,
 * push cos). A stack overflow (ST(7) in use) is detected before anything is
 * computed; the masked response leaves the indefinite in both.
 */
function twoResults(kind: number): ExecFn {
  return (c, i) => {
    const x = c.x87;
    begin(x, i);
    const p = x.top;
    if (isEmpty(x, p) || !isEmpty(x, (p - 1) & 7)) {
      if (isEmpty(x, p)) underflow();
      else overflow();
      if (x.fcw & IE) {
        writeReg(x, p, 0xffff, 0xc0000000, 0);
        setResult(0xffff, 0xc0000000, 0);
        x.top = (p - 1) & 7;
        writeReg(x, x.top, 0xffff, 0xc0000000, 0);
      }
      commit(x);
      return setCC(x, C2, 0);
    }
    const se = regSe(x, p), hi = regHi(x, p), lo = regLo(x, p);
    const cls = classify(se, hi, lo);
    let s1: number, h1: number, l1: number; // first result (stays in the old ST(0))
    if (cls >= QNAN || cls === INF) {
      // Both results are the NaN / the indefinite.
      if (cls === INF) invalid();
      else propagateNaN1(se, hi, lo);
      s1 = R.se; h1 = R.hi; l1 = R.lo;
    } else if (outOfRange(se)) {
      commit(x);
      return setCC(x, C2, C2);
    } else if (cls === ZERO) {
      s1 = se; h1 = 0; l1 = 0;
      setResult(0x3fff, 0x80000000, 0);
    } else {
      if (cls === DENORMAL) fx.exc |= DE;
      reduce(B.fromX87(se, hi, lo));
      const s = sinOfReduced(), co = cosOfReduced();
      const rc = rcOf(x);
      B.toX87(kind === 0 ? B.div(s, co) : s, rc);
      s1 = R.se; h1 = R.hi; l1 = R.lo;
      const up1 = fx.up;
      if (kind === 0) setResult(0x3fff, 0x80000000, 0);
      else B.toX87(co, rc);
      fx.up |= up1;
    }
    if (storeFirst(x, p, s1, h1, l1)) pushR(x);
    commit(x);
    setCC(x, C2, 0);
  };
}

function storeFirst(x: X87State, p: number, se: number, hi: number, lo: number): boolean {
  const sse = R.se, shi = R.hi, slo = R.lo;
  R.se = se;
  R.hi = hi;
  R.lo = lo;
  const ok = storeR(x, p);
  R.se = sse;
  R.hi = shi;
  R.lo = slo;
  return ok;
}

export const fptan = twoResults(0);
export const fsincos = twoResults(1);
