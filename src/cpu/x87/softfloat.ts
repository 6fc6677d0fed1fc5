/**
 * 80-bit extended-precision software floating point on 32-bit halves.
 *
 * A value is passed as (se, hi, lo): se = sign << 15 | biased exponent, and
 * hi:lo the 64-bit significand with its explicit integer bit (hi bit 31).
 * hi and lo may be passed as int32 or uint32 (see R). Results land in `R`,
 * exception flags accumulate in `fx.exc` (FSW bit positions), and `fx.up`
 * records whether the last rounding increased the magnitude (the x87
 * reports that in C1).
 *
 * Rounding follows Berkeley SoftFloat's roundPackToExtF80 with the 8086
 * conventions the x87 uses: precision control rounds the significand to
 * 24/53/64 bits while keeping the extended exponent range, tininess is
 * detected after rounding, and a masked underflow is only flagged when the
 * result is also inexact.
 *
 * Exception precedence, as measured on hardware: an unsupported operand
 * (unnormal, pseudo-NaN/-infinity) or an SNaN gives IE; NaN operands, invalid
 * operations and zero divides suppress DE; DE is raised for denormal operands
 * of arithmetic and comparisons only (not for fst/fist/fbstp sources).
 * No BigInt here: this is the hot path.
 */

export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32, SF = 64;

/** Operand classes. NaN-like classes compare >= QNAN. */
export const ZERO = 0, NORMAL = 1, DENORMAL = 2, INF = 3, QNAN = 4, SNAN = 5, UNSUPPORTED = 6;

/** Precision control values (FCW bits 8-9). */
export const PC24 = 0, PC53 = 2, PC64 = 3;
/** Rounding control values (FCW bits 10-11). */
export const RC_NEAR = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

const TWO32 = 4294967296;

/**
 * The result of the last operation. hi and lo are stored as int32, and every
 * function here accepts hi/lo as int32 or uint32 (it converts on entry):
 * passing int32 keeps calls allocation-free (a uint32 above 2^31 would be
 * boxed as a heap number at every non-inlined call).
 */
export const R = { se: 0, hi: 0, lo: 0 };
/** Accumulated exception flags and the round-up indicator of the last rounding (C1). */
export const fx = {
  exc: 0,
  up: 0,
  /** DE from converting an m32/m64 memory operand: reported only if the operation gets to use it. */
  pendDE: 0,
};

/** Biased exponents of infinity in the three formats roundPack can produce. */
export const EMAX80 = 0x7fff, EMAX64 = 0x7ff, EMAX32 = 0xff;

export function classify(se: number, hi: number, lo: number): number {
  hi >>>= 0; lo >>>= 0;
  const e = se & 0x7fff;
  if (e === 0x7fff) {
    if (hi < 0x80000000) return UNSUPPORTED; // pseudo-infinity / pseudo-NaN
    if (hi === 0x80000000 && lo === 0) return INF;
    return hi & 0x40000000 ? QNAN : SNAN;
  }
  if (e === 0) return hi === 0 && lo === 0 ? ZERO : DENORMAL; // includes pseudo-denormals
  return hi >= 0x80000000 ? NORMAL : UNSUPPORTED; // unnormal
}

/** Tag-word value of a register's contents: 0 valid, 1 zero, 2 special. */
export function tagOf(se: number, hi: number, lo: number): number {
  hi >>>= 0; lo >>>= 0;
  const e = se & 0x7fff;
  if (e === 0x7fff) return 2;
  if (e === 0) return hi === 0 && lo === 0 ? 1 : 2;
  return hi >= 0x80000000 ? 0 : 2;
}

export function setResult(se: number, hi: number, lo: number): void {
  R.se = se;
  R.hi = hi | 0;
  R.lo = lo | 0;
}

/** The "real indefinite" QNaN the x87 produces for masked invalid operations. */
export function setIndefinite(): void {
  R.se = 0xffff;
  R.hi = 0xc0000000 | 0;
  R.lo = 0;
}

/** Masked invalid operation: flag IE, produce the indefinite. */
export function invalid(): void {
  fx.exc |= IE;
  setIndefinite();
}

// ------------------------------------------------------------------ normalization

/**
 * Scratch results of the helpers below. Object fields (not module `let`s):
 * V8 updates double-valued fields in place, while a `let` holding a uint32
 * above 2^31 would allocate a heap number on every store.
 */
/** Normalized operand: exponent may drop below 1 for denormals. */
const N = { e: 0, hi: 0, lo: 0 };

/** Normalizes a finite nonzero value so that bit 63 is set. */
function norm(se: number, hi: number, lo: number): void {
  hi >>>= 0; lo >>>= 0;
  let e = se & 0x7fff;
  if (e === 0) e = 1;
  if (hi === 0) {
    hi = lo;
    lo = 0;
    e -= 32;
  }
  const s = Math.clz32(hi);
  if (s !== 0) {
    hi = ((hi << s) | (lo >>> (32 - s))) >>> 0;
    lo = (lo << s) >>> 0;
    e -= s;
  }
  N.e = e;
  N.hi = hi;
  N.lo = lo;
}

/** Normalized unbiased exponent of a finite nonzero value (for fxtract, fprem, fscale). */
export function normExp(se: number, hi: number, lo: number): number {
  norm(se, hi, lo);
  return N.e - 16383;
}
/** Normalizes into R (exponent may be < 1; se is NOT packed: R.se holds the raw exponent). */
export function normInto(se: number, hi: number, lo: number): void {
  norm(se, hi, lo);
  R.se = N.e;
  R.hi = N.hi | 0;
  R.lo = N.lo | 0;
}

// ------------------------------------------------------------------ shifting helpers

const J = { hi: 0, lo: 0, x: 0 };

/** hi:lo:x >> n with every shifted-out bit ORed into the lowest bit ("jamming"). */
function shiftRightJam(hi: number, lo: number, x: number, n: number): void {
  hi >>>= 0; lo >>>= 0; x >>>= 0;
  if (n <= 0) {
    J.hi = hi;
    J.lo = lo;
    J.x = x;
    return;
  }
  if (n >= 96) {
    J.hi = 0;
    J.lo = 0;
    J.x = hi !== 0 || lo !== 0 || x !== 0 ? 1 : 0;
    return;
  }
  let sticky = 0;
  while (n >= 32) {
    if (x !== 0) sticky = 1;
    x = lo;
    lo = hi;
    hi = 0;
    n -= 32;
  }
  if (n > 0) {
    if (x << (32 - n) !== 0) sticky = 1;
    x = ((x >>> n) | (lo << (32 - n))) >>> 0;
    lo = ((lo >>> n) | (hi << (32 - n))) >>> 0;
    hi = hi >>> n;
  }
  J.hi = hi;
  J.lo = lo;
  J.x = (x | sticky) >>> 0;
}

// ------------------------------------------------------------------ rounding

const RS = { hi: 0, lo: 0, carry: 0, inexact: false, inc: false };

/**
 * Rounds the 96-bit significand hi:lo:x to the precision pc (kept bits at the
 * top of hi:lo), honouring rc. Result in RS.hi/RS.lo (+ RS.carry out of bit 63).
 */
function roundSig(sign: number, hi: number, lo: number, x: number, pc: number, rc: number): void {
  hi >>>= 0; lo >>>= 0; x >>>= 0;
  let half: number, sticky: boolean, lsb: number;
  if (pc === PC24) {
    half = (hi >>> 7) & 1;
    sticky = (hi & 0x7f) !== 0 || lo !== 0 || x !== 0;
    lsb = (hi >>> 8) & 1;
    hi = (hi & ~0xff) >>> 0;
    lo = 0;
  } else if (pc === PC53) {
    half = (lo >>> 10) & 1;
    sticky = (lo & 0x3ff) !== 0 || x !== 0;
    lsb = (lo >>> 11) & 1;
    lo = (lo & ~0x7ff) >>> 0;
  } else {
    half = x >>> 31;
    sticky = (x & 0x7fffffff) !== 0;
    lsb = lo & 1;
  }
  const inexact = half !== 0 || sticky;
  let inc = false;
  if (inexact) {
    if (rc === RC_NEAR) inc = half !== 0 && (sticky || lsb !== 0);
    else if (rc === RC_DOWN) inc = sign !== 0;
    else if (rc === RC_UP) inc = sign === 0;
  }
  let carry = 0;
  if (inc) {
    if (pc === PC24) {
      hi += 0x100;
    } else {
      lo += pc === PC53 ? 0x800 : 1;
      if (lo >= TWO32) {
        lo -= TWO32;
        hi += 1;
      }
    }
    if (hi >= TWO32) {
      hi -= TWO32;
      carry = 1;
    }
  }
  RS.hi = hi;
  RS.lo = lo;
  RS.carry = carry;
  RS.inexact = inexact;
  RS.inc = inc;
}

/**
 * Rounds and packs sign, biased exponent exp (of a normalized significand
 * hi:lo:x, bit 95 set) into R, with precision pc, rounding rc, and the
 * target format's infinity exponent emax (EMAX80/EMAX64/EMAX32; for the
 * narrower formats R.se holds that format's exponent). An all-zero
 * significand packs as a zero.
 */
export function roundPack(sign: number, exp: number, hi: number, lo: number, x: number, pc: number, rc: number, emax: number): void {
  hi >>>= 0; lo >>>= 0; x >>>= 0;
  const s15 = sign << 15;
  if (hi === 0 && lo === 0 && x === 0) {
    setResult(s15, 0, 0);
    fx.up = 0;
    return;
  }
  if (exp <= 0) {
    // Tiny unless rounding with unbounded exponent carries up to the smallest normal.
    roundSig(sign, hi | 0, lo | 0, x | 0, pc, rc);
    const tiny = exp < 0 || RS.carry === 0;
    shiftRightJam(hi | 0, lo | 0, x | 0, 1 - exp);
    roundSig(sign, J.hi | 0, J.lo | 0, J.x | 0, pc, rc);
    if (RS.inexact) fx.exc |= tiny ? PE | UE : PE;
    fx.up = RS.inc ? 1 : 0;
    setResult(s15 | (RS.hi >= 0x80000000 ? 1 : 0), RS.hi, RS.lo);
    return;
  }
  roundSig(sign, hi | 0, lo | 0, x | 0, pc, rc);
  hi = RS.hi;
  lo = RS.lo;
  if (RS.carry) {
    exp++;
    hi = 0x80000000;
  }
  if (exp >= emax) {
    fx.exc |= OE | PE;
    if (rc === RC_NEAR || (rc === RC_DOWN && sign) || (rc === RC_UP && !sign)) {
      setResult(s15 | emax, 0x80000000, 0);
      fx.up = 1;
    } else {
      // Largest finite value at this precision.
      setResult(s15 | (emax - 1), pc === PC24 ? 0xffffff00 : 0xffffffff, pc === PC24 ? 0 : pc === PC53 ? 0xfffff800 : 0xffffffff);
      fx.up = 0;
    }
    return;
  }
  if (RS.inexact) fx.exc |= PE;
  fx.up = RS.inc ? 1 : 0;
  setResult(s15 | exp, hi, lo);
}

/** Rounds a finite value (already in 80-bit form) to the precision pc (used by x + 0 and moves that round). */
export function roundTo(se: number, hi: number, lo: number, pc: number, rc: number): void {
  hi >>>= 0; lo >>>= 0;
  if ((se & 0x7fff) === 0 && hi === 0 && lo === 0) {
    setResult(se, 0, 0);
    fx.up = 0;
    return;
  }
  norm(se, hi, lo);
  roundPack(se >>> 15, N.e, N.hi | 0, N.lo | 0, 0, pc, rc, EMAX80);
}

// ------------------------------------------------------------------ NaNs

/**
 * NaN propagation for a two-operand operation (at least one operand is a NaN
 * or unsupported): an unsupported operand gives the indefinite; an SNaN
 * raises IE; a QNaN beats an SNaN; two NaNs of the same kind give the one
 * with the larger significand (on a tie, the first operand).
 */
export function propagateNaN(ase: number, ahi: number, alo: number, bse: number, bhi: number, blo: number): void {
  ahi >>>= 0; alo >>>= 0; bhi >>>= 0; blo >>>= 0;
  const ca = classify(ase, ahi, alo), cb = classify(bse, bhi, blo);
  if (ca === UNSUPPORTED || cb === UNSUPPORTED) return invalid();
  if (ca === SNAN || cb === SNAN) fx.exc |= IE;
  let useA: boolean;
  if (ca >= QNAN && cb >= QNAN) {
    if (ca !== cb) useA = ca === QNAN;
    else {
      const ma = ahi & 0x3fffffff, mb = bhi & 0x3fffffff;
      useA = ma > mb || (ma === mb && alo >= blo);
      if (ma === mb && alo === blo) useA = ase <= bse; // same significand: the positive one
    }
  } else useA = ca >= QNAN;
  if (useA) setResult(ase, (ahi | 0x40000000) >>> 0, alo);
  else setResult(bse, (bhi | 0x40000000) >>> 0, blo);
}

/** One-operand NaN handling: unsupported → indefinite, SNaN → IE + quiet. */
export function propagateNaN1(se: number, hi: number, lo: number): void {
  hi >>>= 0; lo >>>= 0;
  const c = classify(se, hi, lo);
  if (c === UNSUPPORTED) return invalid();
  if (c === SNAN) fx.exc |= IE;
  setResult(se, (hi | 0x40000000) >>> 0, lo);
}

// ------------------------------------------------------------------ add / sub

/** a + b (negB = 0x8000 turns it into a - b). */
export function add(ase: number, ahi: number, alo: number, bse: number, bhi: number, blo: number, negB: number, pc: number, rc: number): void {
  ahi >>>= 0; alo >>>= 0; bhi >>>= 0; blo >>>= 0;
  fx.up = 0;
  const ca = classify(ase, ahi, alo), cb = classify(bse, bhi, blo);
  if (ca >= QNAN || cb >= QNAN) return propagateNaN(ase, ahi, alo, bse, bhi, blo);
  bse ^= negB;
  if (ca === DENORMAL || cb === DENORMAL || fx.pendDE) fx.exc |= DE;
  const as = ase >>> 15, bs = bse >>> 15;
  if (ca === INF || cb === INF) {
    if (ca === INF && cb === INF && as !== bs) return invalid();
    return setResult(((ca === INF ? as : bs) << 15) | 0x7fff, 0x80000000, 0);
  }
  if (cb === ZERO) {
    if (ca === ZERO) return setResult(as === bs ? ase & 0x8000 : rc === RC_DOWN ? 0x8000 : 0, 0, 0);
    return roundTo(ase, ahi, alo, pc, rc);
  }
  if (ca === ZERO) return roundTo(bse, bhi, blo, pc, rc);
  norm(ase, ahi, alo);
  const ae = N.e, ah = N.hi, al = N.lo;
  norm(bse, bhi, blo);
  addNormalized(as, ae, ah | 0, al | 0, bs, N.e, N.hi | 0, N.lo | 0, pc, rc);
}

/** Sum of two normalized finite nonzero values. */
function addNormalized(as: number, ae: number, ah: number, al: number, bs: number, be: number, bh: number, bl: number, pc: number, rc: number): void {
  ah >>>= 0; al >>>= 0; bh >>>= 0; bl >>>= 0;
  // Order by magnitude so that |a| >= |b|.
  if (ae < be || (ae === be && (ah < bh || (ah === bh && al < bl)))) {
    let t = as; as = bs; bs = t;
    t = ae; ae = be; be = t;
    t = ah; ah = bh; bh = t;
    t = al; al = bl; bl = t;
  }
  shiftRightJam(bh | 0, bl | 0, 0, ae - be);
  bh = J.hi;
  bl = J.lo;
  const bx = J.x;
  let hi: number, lo: number, x: number, exp = ae;
  if (as === bs) {
    x = bx;
    lo = al + bl;
    hi = ah + bh;
    if (lo >= TWO32) {
      lo -= TWO32;
      hi++;
    }
    if (hi >= TWO32) {
      // Carry out: shift right one, keeping the lost bit sticky.
      hi -= TWO32;
      x = ((x >>> 1) | ((lo & 1) << 31) | (x & 1)) >>> 0;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = ((hi >>> 1) | 0x80000000) >>> 0;
      exp++;
    }
  } else {
    x = -bx;
    let borrow = 0;
    if (x < 0) {
      x += TWO32;
      borrow = 1;
    }
    lo = al - bl - borrow;
    borrow = 0;
    if (lo < 0) {
      lo += TWO32;
      borrow = 1;
    }
    hi = ah - bh - borrow;
    if (hi === 0 && lo === 0 && x === 0) return setResult(rc === RC_DOWN ? 0x8000 : 0, 0, 0);
    // Normalize left (only large when the subtraction was exact).
    while (hi === 0) {
      hi = lo;
      lo = x;
      x = 0;
      exp -= 32;
    }
    const s = Math.clz32(hi);
    if (s !== 0) {
      hi = ((hi << s) | (lo >>> (32 - s))) >>> 0;
      lo = ((lo << s) | (x >>> (32 - s))) >>> 0;
      x = (x << s) >>> 0;
      exp -= s;
    }
  }
  roundPack(as, exp, hi | 0, lo | 0, x | 0, pc, rc, EMAX80);
}

// ------------------------------------------------------------------ multiply

export function mul(ase: number, ahi: number, alo: number, bse: number, bhi: number, blo: number, pc: number, rc: number): void {
  ahi >>>= 0; alo >>>= 0; bhi >>>= 0; blo >>>= 0;
  fx.up = 0;
  const ca = classify(ase, ahi, alo), cb = classify(bse, bhi, blo);
  if (ca >= QNAN || cb >= QNAN) return propagateNaN(ase, ahi, alo, bse, bhi, blo);
  const sign = (ase ^ bse) >>> 15;
  if ((ca === INF && cb === ZERO) || (ca === ZERO && cb === INF)) return invalid();
  if (ca === DENORMAL || cb === DENORMAL || fx.pendDE) fx.exc |= DE;
  if (ca === INF || cb === INF) return setResult((sign << 15) | 0x7fff, 0x80000000, 0);
  if (ca === ZERO || cb === ZERO) return setResult(sign << 15, 0, 0);
  norm(ase, ahi, alo);
  const ae = N.e, ah = N.hi, al = N.lo;
  norm(bse, bhi, blo);
  mulNormalized(sign, ae + N.e - 16383, ah | 0, al | 0, N.hi | 0, N.lo | 0, pc, rc);
}

const PR = { hi: 0, lo: 0, x: 0, y: 0 };

/** 64x64 → 128-bit product of a and b in 16-bit limbs: PR.hi:PR.lo:PR.x:PR.y (most significant first). */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  ah >>>= 0; al >>>= 0; bh >>>= 0; bl >>>= 0;
  const a0 = al & 0xffff, a1 = al >>> 16, a2 = ah & 0xffff, a3 = ah >>> 16;
  const b0 = bl & 0xffff, b1 = bl >>> 16, b2 = bh & 0xffff, b3 = bh >>> 16;
  // Column sums stay below 2^36: the carry (t / 2^16) fits an int32, so `| 0`
  // is a single truncation (bit operations on the sums themselves would take
  // V8's slow out-of-int32-range path).
  let t = a0 * b0, c = (t / 65536) | 0;
  const r0 = t - c * 65536;
  t = c + a1 * b0 + a0 * b1;
  c = (t / 65536) | 0;
  const r1 = t - c * 65536;
  t = c + a2 * b0 + a1 * b1 + a0 * b2;
  c = (t / 65536) | 0;
  const r2 = t - c * 65536;
  t = c + a3 * b0 + a2 * b1 + a1 * b2 + a0 * b3;
  c = (t / 65536) | 0;
  const r3 = t - c * 65536;
  t = c + a3 * b1 + a2 * b2 + a1 * b3;
  c = (t / 65536) | 0;
  const r4 = t - c * 65536;
  t = c + a3 * b2 + a2 * b3;
  c = (t / 65536) | 0;
  const r5 = t - c * 65536;
  t = c + a3 * b3;
  const r7 = (t / 65536) | 0;
  const r6 = t - r7 * 65536;
  PR.hi = r7 * 65536 + r6;
  PR.lo = r5 * 65536 + r4;
  PR.x = r3 * 65536 + r2;
  PR.y = r1 * 65536 + r0;
}

/** Product of normalized significands; exp is ea + eb - bias. */
function mulNormalized(sign: number, exp: number, ah: number, al: number, bh: number, bl: number, pc: number, rc: number): void {
  ah >>>= 0; al >>>= 0; bh >>>= 0; bl >>>= 0;
  mul64(ah | 0, al | 0, bh | 0, bl | 0);
  let hi = PR.hi, lo = PR.lo, x = (PR.x | (PR.y !== 0 ? 1 : 0)) >>> 0;
  exp++;
  if (hi < 0x80000000) {
    hi = ((hi << 1) | (lo >>> 31)) >>> 0;
    lo = ((lo << 1) | (x >>> 31)) >>> 0;
    x = ((x << 1) | (x & 1)) >>> 0;
    exp--;
  }
  roundPack(sign, exp, hi | 0, lo | 0, x | 0, pc, rc, EMAX80);
}

// ------------------------------------------------------------------ divide

export function div(ase: number, ahi: number, alo: number, bse: number, bhi: number, blo: number, pc: number, rc: number): void {
  ahi >>>= 0; alo >>>= 0; bhi >>>= 0; blo >>>= 0;
  fx.up = 0;
  const ca = classify(ase, ahi, alo), cb = classify(bse, bhi, blo);
  if (ca >= QNAN || cb >= QNAN) return propagateNaN(ase, ahi, alo, bse, bhi, blo);
  const sign = (ase ^ bse) >>> 15;
  if ((ca === INF && cb === INF) || (ca === ZERO && cb === ZERO)) return invalid();
  if (cb === ZERO && ca !== INF) {
    // Zero divide takes precedence over the denormal-operand exception.
    fx.exc |= ZE;
    return setResult((sign << 15) | 0x7fff, 0x80000000, 0);
  }
  if (ca === DENORMAL || cb === DENORMAL || fx.pendDE) fx.exc |= DE;
  if (ca === INF) return setResult((sign << 15) | 0x7fff, 0x80000000, 0);
  if (cb === INF || ca === ZERO) return setResult(sign << 15, 0, 0);
  norm(ase, ahi, alo);
  const ae = N.e, ah = N.hi, al = N.lo;
  norm(bse, bhi, blo);
  divNormalized(sign, ae - N.e + 16383, ah | 0, al | 0, N.hi | 0, N.lo | 0, pc, rc);
}

/** 16-bit limbs (little-endian) of the dividend/remainder and the divisor for divNormalized. */
const DU = new Float64Array(9);
const DV = new Float64Array(4);
const DQ = new Float64Array(5);

/**
 * Quotient of normalized significands: Knuth's algorithm D in radix 2^16.
 * With A' = A (or 2A when A < B, so that B <= A' < 2B) it computes
 * Q = floor(A' * 2^64 / B), a 65-bit quotient whose last bit is the guard
 * bit; the remainder supplies the sticky bit. Each quotient digit is
 * estimated as floor(top 3 remainder limbs / top 2 divisor limbs), exact in
 * doubles and at most one too large.
 */
function divNormalized(sign: number, exp: number, ah: number, al: number, bh: number, bl: number, pc: number, rc: number): void {
  ah >>>= 0; al >>>= 0; bh >>>= 0; bl >>>= 0;
  let top = 0;
  if (ah < bh || (ah === bh && al < bl)) {
    top = ah >>> 31;
    ah = ((ah << 1) | (al >>> 31)) >>> 0;
    al = (al << 1) >>> 0;
    exp--;
  }
  const u = DU, v = DV, q = DQ;
  u[0] = u[1] = u[2] = u[3] = 0;
  u[4] = al & 0xffff;
  u[5] = al >>> 16;
  u[6] = ah & 0xffff;
  u[7] = ah >>> 16;
  u[8] = top;
  v[0] = bl & 0xffff;
  v[1] = bl >>> 16;
  v[2] = bh & 0xffff;
  v[3] = bh >>> 16;
  const den = v[3] * 65536 + v[2];
  for (let j = 4; j >= 0; j--) {
    let qhat = ((u[j + 4] * 4294967296 + u[j + 3] * 65536 + u[j + 2]) / den) | 0;
    if (qhat > 0xffff) qhat = 0xffff;
    // u[j..j+4] -= qhat * v
    let carry = 0, borrow = 0;
    for (let k = 0; k < 4; k++) {
      const p = qhat * v[k] + carry;
      carry = (p / 65536) | 0;
      let t = u[j + k] - (p - carry * 65536) - borrow;
      borrow = 0;
      if (t < 0) {
        t += 65536;
        borrow = 1;
      }
      u[j + k] = t;
    }
    let t = u[j + 4] - carry - borrow;
    if (t < 0) {
      // qhat was one too large: add the divisor back.
      qhat--;
      let c = 0;
      for (let k = 0; k < 4; k++) {
        let s2 = u[j + k] + v[k] + c;
        c = 0;
        if (s2 >= 65536) {
          s2 -= 65536;
          c = 1;
        }
        u[j + k] = s2;
      }
      t += c;
    }
    u[j + 4] = t;
    q[j] = qhat;
  }
  // Q = q4 (= 1) : q3 : q2 : q1 : q0; drop its last bit into the guard position.
  const sticky = u[0] !== 0 || u[1] !== 0 || u[2] !== 0 || u[3] !== 0 ? 1 : 0;
  const hi = q[4] * 0x80000000 + q[3] * 32768 + (q[2] >>> 1);
  const lo = (q[2] & 1) * 0x80000000 + q[1] * 32768 + (q[0] >>> 1);
  const x = (q[0] & 1) * 0x80000000 + sticky;
  roundPack(sign, exp, hi | 0, lo | 0, x | 0, pc, rc, EMAX80);
}

// ------------------------------------------------------------------ square root

export function sqrt(se: number, hi: number, lo: number, pc: number, rc: number): void {
  hi >>>= 0; lo >>>= 0;
  fx.up = 0;
  const c = classify(se, hi, lo);
  if (c >= QNAN) return propagateNaN1(se, hi, lo);
  if (c === ZERO) return setResult(se, 0, 0);
  if (se & 0x8000) return invalid();
  if (c === DENORMAL) fx.exc |= DE;
  if (c === INF) return setResult(se, hi, lo);
  norm(se, hi, lo);
  const e = N.e - 16383;
  // Radicand M << k (132 bits) so that the root has 66 bits; k makes the exponent even.
  const k = 67 + (e & 1);
  // Digit-by-digit square root; root and remainder as 3-word numbers (w2:w1:w0).
  let r2 = 0, r1 = 0, r0 = 0; // root
  let m2 = 0, m1 = 0, m0 = 0; // remainder
  const mh = N.hi, ml = N.lo;
  for (let j = 0; j < 66; j++) {
    const p = 131 - 2 * j; // bit positions p, p-1 of the radicand
    const b1 = bitOfShifted(mh, ml, p - k), b0 = bitOfShifted(mh, ml, p - 1 - k);
    // rem = rem << 2 | pair
    m2 = ((m2 << 2) | (m1 >>> 30)) >>> 0;
    m1 = ((m1 << 2) | (m0 >>> 30)) >>> 0;
    m0 = ((m0 << 2) | (b1 << 1) | b0) >>> 0;
    // trial = root << 2 | 1
    const t2 = ((r2 << 2) | (r1 >>> 30)) >>> 0;
    const t1 = ((r1 << 2) | (r0 >>> 30)) >>> 0;
    const t0 = ((r0 << 2) | 1) >>> 0;
    const ge = m2 > t2 || (m2 === t2 && (m1 > t1 || (m1 === t1 && m0 >= t0)));
    if (ge) {
      let d0 = m0 - t0, b = 0;
      if (d0 < 0) {
        d0 += TWO32;
        b = 1;
      }
      let d1 = m1 - t1 - b;
      b = 0;
      if (d1 < 0) {
        d1 += TWO32;
        b = 1;
      }
      m2 = m2 - t2 - b;
      m1 = d1;
      m0 = d0;
    }
    r2 = ((r2 << 1) | (r1 >>> 31)) >>> 0;
    r1 = ((r1 << 1) | (r0 >>> 31)) >>> 0;
    r0 = ((r0 << 1) | (ge ? 1 : 0)) >>> 0;
  }
  // Root has 66 bits: r2 holds its top 2 bits.
  const qh = ((r2 << 30) | (r1 >>> 2)) >>> 0;
  const ql = ((r1 << 30) | (r0 >>> 2)) >>> 0;
  const qx = (((r0 & 3) << 30) | (m2 !== 0 || m1 !== 0 || m0 !== 0 ? 1 : 0)) >>> 0;
  roundPack(0, (e - 63 - k) / 2 + 65 + 16383, qh | 0, ql | 0, qx | 0, pc, rc, EMAX80);
}

/** Bit n (0..63) of hi:lo, 0 outside that range. */
function bitOfShifted(hi: number, lo: number, n: number): number {
  hi >>>= 0; lo >>>= 0;
  if (n < 0 || n > 63) return 0;
  return n >= 32 ? (hi >>> (n - 32)) & 1 : (lo >>> n) & 1;
}

// ------------------------------------------------------------------ compare

/** Comparison results (map to C3 C2 C0 and ZF PF CF). */
export const CMP_GT = 0, CMP_LT = 1, CMP_EQ = 2, CMP_UN = 3;

/** Compares a with b; signaling compares raise IE for any NaN, quiet ones only for SNaN. */
export function compare(ase: number, ahi: number, alo: number, bse: number, bhi: number, blo: number, signaling: boolean): number {
  ahi >>>= 0; alo >>>= 0; bhi >>>= 0; blo >>>= 0;
  const ca = classify(ase, ahi, alo), cb = classify(bse, bhi, blo);
  if (ca >= QNAN || cb >= QNAN) {
    if (signaling || ca === SNAN || cb === SNAN || ca === UNSUPPORTED || cb === UNSUPPORTED) fx.exc |= IE;
    return CMP_UN;
  }
  if (ca === DENORMAL || cb === DENORMAL || fx.pendDE) fx.exc |= DE;
  if (ca === ZERO && cb === ZERO) return CMP_EQ;
  const as = ase >>> 15, bs = bse >>> 15;
  if (ca === ZERO) return bs ? CMP_GT : CMP_LT;
  if (cb === ZERO) return as ? CMP_LT : CMP_GT;
  if (as !== bs) return as ? CMP_LT : CMP_GT;
  let ae: number, ah: number, al: number;
  if (ca === INF) {
    ae = 0x7fff; ah = 0x80000000; al = 0;
  } else {
    norm(ase, ahi, alo); ae = N.e; ah = N.hi; al = N.lo;
  }
  let be: number, bh: number, bl: number;
  if (cb === INF) {
    be = 0x7fff; bh = 0x80000000; bl = 0;
  } else {
    norm(bse, bhi, blo); be = N.e; bh = N.hi; bl = N.lo;
  }
  if (ae === be && ah === bh && al === bl) return CMP_EQ;
  const aBigger = ae > be || (ae === be && (ah > bh || (ah === bh && al > bl)));
  return aBigger !== (as === 1) ? CMP_GT : CMP_LT;
}

// ------------------------------------------------------------------ integers

/** Integer result of roundToInt: magnitude hi:lo. */
export const I = { hi: 0, lo: 0 };

/**
 * Rounds the magnitude of a finite nonzero value to an integer with rc
 * (sign used for directed rounding). Magnitudes >= 2^64 are reported with
 * I.hi = -1 (too large for any integer format). Sets PE / fx.up.
 */
export function roundToInt(se: number, hi: number, lo: number, rc: number): void {
  hi >>>= 0; lo >>>= 0;
  norm(se, hi, lo);
  const e = N.e - 16383;
  if (e >= 64) {
    I.hi = -1;
    I.lo = 0;
    fx.up = 0;
    return;
  }
  if (e >= 63) {
    I.hi = N.hi;
    I.lo = N.lo;
    fx.up = 0;
    return;
  }
  shiftRightJam(N.hi | 0, N.lo | 0, 0, 63 - e);
  roundSig(se >>> 15, J.hi | 0, J.lo | 0, J.x | 0, PC64, rc);
  if (RS.inexact) fx.exc |= PE;
  fx.up = RS.inc ? 1 : 0;
  I.hi = RS.hi;
  I.lo = RS.lo;
}

/** Converts a 64-bit magnitude with sign into an exact 80-bit value in R. */
export function fromUint64(sign: number, hi: number, lo: number): void {
  hi >>>= 0; lo >>>= 0;
  if (hi === 0 && lo === 0) return setResult(sign << 15, 0, 0);
  let e = 16383 + 63;
  if (hi === 0) {
    hi = lo;
    lo = 0;
    e -= 32;
  }
  const s = Math.clz32(hi);
  if (s !== 0) {
    hi = ((hi << s) | (lo >>> (32 - s))) >>> 0;
    lo = (lo << s) >>> 0;
    e -= s;
  }
  setResult((sign << 15) | e, hi, lo);
}

/** Signed 64-bit integer (two int32 halves) → exact 80-bit value in R. */
export function fromInt64(lo: number, hi: number): void {
  if (hi < 0) {
    // Negate the 64-bit two's complement value.
    let l = (~lo >>> 0) + 1, h = ~hi >>> 0;
    if (l >= TWO32) {
      l -= TWO32;
      h = (h + 1) >>> 0;
    }
    fromUint64(1, h, l);
  } else fromUint64(0, hi >>> 0, lo >>> 0);
}

/** Signed 32-bit integer → exact 80-bit value in R. */
export function fromInt32(v: number): void {
  v |= 0;
  if (v < 0) fromUint64(1, 0, -v >>> 0);
  else fromUint64(0, 0, v);
}

// ------------------------------------------------------------------ single / double

/**
 * IEEE single bits → 80-bit value in R. SNaNs are kept signaling (the caller
 * decides whether loading quiets them); denormals set fx.pendDE.
 */
export function fromF32(bits: number): void {
  bits >>>= 0;
  const sign = bits >>> 31, e = (bits >>> 23) & 0xff, f = bits & 0x7fffff;
  if (e === 0xff) return setResult((sign << 15) | 0x7fff, (0x80000000 | (f << 8)) >>> 0, 0);
  if (e === 0) {
    if (f === 0) return setResult(sign << 15, 0, 0);
    fx.pendDE = DE;
    fromUint64(0, 0, f); // f * 2^-149
    return setResult((sign << 15) | ((R.se & 0x7fff) - 149), R.hi, R.lo);
  }
  setResult((sign << 15) | (e - 127 + 16383), (0x80000000 | (f << 8)) >>> 0, 0);
}

/** IEEE double (two int32 halves) → 80-bit value in R (SNaNs kept signaling, denormals set fx.pendDE). */
export function fromF64(lo: number, hi: number): void {
  const sign = hi >>> 31, e = (hi >>> 20) & 0x7ff;
  const fh = hi & 0xfffff;
  lo >>>= 0;
  if (e === 0x7ff) return setResult((sign << 15) | 0x7fff, (0x80000000 | (fh << 11) | (lo >>> 21)) >>> 0, (lo << 11) >>> 0);
  if (e === 0) {
    if (fh === 0 && lo === 0) return setResult(sign << 15, 0, 0);
    fx.pendDE = DE;
    fromUint64(0, fh, lo); // f * 2^-1074
    return setResult((sign << 15) | ((R.se & 0x7fff) - 1074), R.hi, R.lo);
  }
  setResult((sign << 15) | (e - 1023 + 16383), (0x80000000 | (fh << 11) | (lo >>> 21)) >>> 0, (lo << 11) >>> 0);
}

/**
 * 80-bit value → IEEE single bits (returned as int32) with rounding rc. Handles every
 * class: SNaN → IE and quieted, unsupported → IE and the indefinite,
 * overflow/underflow/precision flags.
 */
export function toF32(se: number, hi: number, lo: number, rc: number): number {
  hi >>>= 0; lo >>>= 0;
  fx.up = 0;
  const c = classify(se, hi, lo);
  const sign = se >>> 15;
  switch (c) {
    case ZERO: return sign << 31;
    case INF: return (sign << 31) | 0x7f800000;
    case UNSUPPORTED: fx.exc |= IE; return 0xffc00000 | 0;
    case SNAN: fx.exc |= IE; // fall through: quieted
    case QNAN: return (sign << 31) | 0x7fc00000 | ((hi >>> 8) & 0x3fffff);
  }
  // (An 80-bit denormal source raises no DE here: hardware only flags it for arithmetic.)
  norm(se, hi, lo);
  roundPack(sign, N.e - 16383 + 127, N.hi | 0, N.lo | 0, 0, PC24, rc, EMAX32);
  return (sign << 31) | ((R.se & 0x7fff) << 23) | ((R.hi >>> 8) & 0x7fffff);
}

/** 80-bit value → IEEE double; low half returned, high half in R.hi (both int32). */
export function toF64(se: number, hi: number, lo: number, rc: number): number {
  hi >>>= 0; lo >>>= 0;
  fx.up = 0;
  const c = classify(se, hi, lo);
  const sign = se >>> 15;
  switch (c) {
    case ZERO: R.hi = sign << 31; return 0;
    case INF: R.hi = (sign << 31) | 0x7ff00000; return 0;
    case UNSUPPORTED: fx.exc |= IE; R.hi = 0xfff80000 | 0; return 0;
    case SNAN: fx.exc |= IE; // fall through: quieted
    case QNAN:
      R.hi = (sign << 31) | 0x7ff80000 | ((hi >>> 11) & 0x7ffff);
      return (hi << 21) | (lo >>> 11);
  }
  norm(se, hi, lo);
  roundPack(sign, N.e - 16383 + 1023, N.hi | 0, N.lo | 0, 0, PC53, rc, EMAX64);
  const rhi = R.hi, rlo = R.lo;
  R.hi = (sign << 31) | ((R.se & 0x7fff) << 20) | ((rhi >>> 11) & 0xfffff);
  return (rhi << 21) | (rlo >>> 11);
}
