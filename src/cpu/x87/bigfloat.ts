/**
 * A small arbitrary-precision binary float (value = m * 2^e, BigInt m) for
 * the rare transcendental instructions. Every operation keeps P significant
 * bits; bits dropped are jammed into the lowest bit so the final rounding
 * to 64 bits still sees "inexact" and its direction.
 */
import { EMAX80, PC64, roundPack } from './softfloat.js';

export interface BF {
  m: bigint;
  e: number;
}

/** Working precision in bits (the result needs 64 + a safety margin for the series' error). */
export const P = 160;

export function bitLen(m: bigint): number {
  if (m < 0n) m = -m;
  return m === 0n ? 0 : m.toString(16).length * 4 - (Math.clz32(parseInt(m.toString(16)[0], 16)) - 28);
}

/** Builds m * 2^e rounded (by jamming) to P bits. */
export function mk(m: bigint, e: number): BF {
  const neg = m < 0n;
  let a = neg ? -m : m;
  const n = bitLen(a);
  if (n > P) {
    const k = n - P;
    const low = a & ((1n << BigInt(k)) - 1n);
    a >>= BigInt(k);
    if (low !== 0n) a |= 1n;
    e += k;
  }
  return { m: neg ? -a : a, e };
}

export const ZERO_BF: BF = { m: 0n, e: 0 };
export function fromInt(n: number): BF {
  return { m: BigInt(n), e: 0 };
}

/** x's significand scaled to exponent e (shifting right jams). */
function align(x: BF, e: number): bigint {
  if (x.e >= e) return x.m << BigInt(x.e - e);
  const k = BigInt(e - x.e);
  const neg = x.m < 0n;
  let a = neg ? -x.m : x.m;
  const low = a & ((1n << k) - 1n);
  a >>= k;
  if (low !== 0n) a |= 1n;
  return neg ? -a : a;
}

export function add(a: BF, b: BF): BF {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  const top = Math.max(a.e + bitLen(a.m), b.e + bitLen(b.m));
  const e = Math.max(Math.min(a.e, b.e), top - 2 * P);
  return mk(align(a, e) + align(b, e), e);
}

export function neg(a: BF): BF {
  return { m: -a.m, e: a.e };
}

export function sub(a: BF, b: BF): BF {
  return add(a, neg(b));
}

export function mul(a: BF, b: BF): BF {
  return mk(a.m * b.m, a.e + b.e);
}

export function div(a: BF, b: BF): BF {
  const k = Math.max(0, P + 2 + bitLen(b.m) - bitLen(a.m));
  const n = a.m << BigInt(k);
  let q = n / b.m; // truncated toward zero
  if (q * b.m !== n) q = jam(q);
  return mk(q, a.e - b.e - k);
}

/** Marks an inexact quotient: sets the lowest bit of the magnitude. */
function jam(q: bigint): bigint {
  return q < 0n ? -(-q | 1n) : q | 1n;
}

export function sqrt(a: BF): BF {
  // Scale so the radicand has about 2P+2 bits and an even exponent.
  let k = Math.max(0, 2 * P + 2 - bitLen(a.m));
  if ((a.e - k) & 1) k++;
  const n = a.m << BigInt(k);
  let r = isqrt(n);
  if (r * r !== n) r |= 1n;
  return mk(r, (a.e - k) / 2);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLen(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function abs(a: BF): BF {
  return a.m < 0n ? neg(a) : a;
}

export function isNeg(a: BF): boolean {
  return a.m < 0n;
}

/** Compares magnitudes: |a| < |b|. */
export function absLess(a: BF, b: BF): boolean {
  const d = sub(abs(a), abs(b));
  return d.m < 0n;
}

/** From an 80-bit value (finite). */
export function fromX87(se: number, hi: number, lo: number): BF {
  const e = se & 0x7fff;
  const m = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return { m: se & 0x8000 ? -m : m, e: (e === 0 ? 1 : e) - 16383 - 63 };
}

/**
 * Rounds to an 80-bit value in R with rounding control rc (64-bit precision).
 * inexact: the true value is known to be irrational, so a sticky bit is
 * added even when the approximation happens to be exact (jammed errors can
 * cancel in a division, e.g. sin(r)/cos(r) for tiny r); the x87 reports PE
 * for every nontrivial transcendental result.
 */
export function toX87(v: BF, rc: number, inexact = true): void {
  const sign = v.m < 0n ? 1 : 0;
  let a = sign ? -v.m : v.m;
  if (a === 0n) {
    roundPack(sign, 0, 0, 0, 0, PC64, rc, EMAX80);
    return;
  }
  const n = bitLen(a);
  let sticky = 0n;
  if (n > 96) {
    const k = BigInt(n - 96);
    sticky = a & ((1n << k) - 1n);
    a >>= k;
  } else a <<= BigInt(96 - n);
  if (sticky !== 0n || inexact) a |= 1n;
  const hi = Number(a >> 64n), lo = Number((a >> 32n) & 0xffffffffn), x = Number(a & 0xffffffffn);
  roundPack(sign, v.e + n - 1 + 16383, hi, lo, x, PC64, rc, EMAX80);
}

// ------------------------------------------------------------------ constants

/** pi's fractional hex digits (the Blowfish P-array), 576 bits. */
const PI_FRAC = '243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89452821E638D01377BE5466CF34E90C6CC0AC29B7C97C50DD3F84D5B5B5470917';
export const PI: BF = mk(BigInt('0x3' + PI_FRAC), -PI_FRAC.length * 4);

/** The 66-bit approximation of pi the x87 uses for fsin/fcos/fptan/fsincos argument reduction. */
export const PI66: BF = { m: 0x3243f6a8885a308d3n, e: -64 };

let ln2Cache: BF | null = null;
/** ln 2 = 2 atanh(1/3). */
export function LN2(): BF {
  if (!ln2Cache) ln2Cache = mul(fromInt(2), atanh(div(fromInt(1), fromInt(3))));
  return ln2Cache;
}

// ------------------------------------------------------------------ series

function negligible(term: BF, sum: BF): boolean {
  return term.m === 0n || (sum.m !== 0n && term.e + bitLen(term.m) < sum.e + bitLen(sum.m) - P - 4);
}

/** atanh(t) = t + t^3/3 + t^5/5 + … for |t| small. */
export function atanh(t: BF): BF {
  const t2 = mul(t, t);
  let pow = t, sum = t;
  for (let k = 3; k < 1000; k += 2) {
    pow = mul(pow, t2);
    const term = div(pow, fromInt(k));
    sum = add(sum, term);
    if (negligible(term, sum)) break;
  }
  return sum;
}

/** atan(t) = t - t^3/3 + t^5/5 - … for |t| small. */
function atanSeries(t: BF): BF {
  const t2 = mul(t, t);
  let pow = t, sum = t;
  for (let k = 3; k < 1000; k += 2) {
    pow = neg(mul(pow, t2));
    const term = div(pow, fromInt(k));
    sum = add(sum, term);
    if (negligible(term, sum)) break;
  }
  return sum;
}

/** e^y - 1 for |y| <= ~1. */
export function expm1(y: BF): BF {
  let term = y, sum = y;
  for (let k = 2; k < 1000; k++) {
    term = div(mul(term, y), fromInt(k));
    sum = add(sum, term);
    if (negligible(term, sum)) break;
  }
  return sum;
}

/** Natural log of a positive value. */
export function ln(x: BF): BF {
  // x = m * 2^k with m in [0.75, 1.5).
  let k = x.e + bitLen(x.m) - 1;
  let m: BF = { m: x.m, e: x.e - k };
  if (sub(m, { m: 3n, e: -1 }).m >= 0n) {
    m = { m: m.m, e: m.e - 1 };
    k++;
  }
  const one = fromInt(1);
  const t = div(sub(m, one), add(m, one));
  const lm = mul(fromInt(2), atanh(t));
  return k === 0 ? lm : add(mul(fromInt(k), LN2()), lm);
}

/** ln(1 + x) for x > -1, accurate for small x. */
export function ln1p(x: BF): BF {
  if (x.m === 0n) return x;
  const one = fromInt(1);
  const ax = abs(x);
  if (absLess(ax, { m: 1n, e: -2 })) return mul(fromInt(2), atanh(div(x, add(fromInt(2), x))));
  return ln(add(one, x));
}

/** atan of any finite value. */
export function atan(z: BF): BF {
  if (z.m === 0n) return z;
  const one = fromInt(1);
  if (absLess(one, z)) {
    const halfPi = { m: PI.m, e: PI.e - 1 };
    const r = sub(halfPi, atan(abs(div(one, z))));
    return isNeg(z) ? neg(r) : r;
  }
  // atan(z) = 2 atan(z / (1 + sqrt(1 + z^2))), three times: |z| <= tan(pi/32).
  let t = z;
  for (let k = 0; k < 3; k++) t = div(t, add(one, sqrt(add(one, mul(t, t)))));
  const s = atanSeries(t);
  return { m: s.m, e: s.e + 3 };
}

/** sin and cos of |r| <= ~pi/4 by Taylor series. */
export function sinSeries(r: BF): BF {
  const r2 = mul(r, r);
  let term = r, sum = r;
  for (let k = 2; k < 1000; k += 2) {
    term = neg(div(mul(term, r2), fromInt(k * (k + 1))));
    sum = add(sum, term);
    if (negligible(term, sum)) break;
  }
  return sum;
}
export function cosSeries(r: BF): BF {
  const r2 = mul(r, r);
  let term = fromInt(1), sum = term;
  for (let k = 1; k < 1000; k += 2) {
    term = neg(div(mul(term, r2), fromInt(k * (k + 1))));
    sum = add(sum, term);
    if (negligible(term, sum)) break;
  }
  return sum;
}
