/**
 * Data movement: fld/fst/fstp (m32, m64, m80, ST(i)), fild/fist/fistp/fisttp
 * (m16, m32, m64), fbld/fbstp, the constant loads, fxch, fchs, fabs, fcmovcc,
 * ffree, fincstp/fdecstp, fnop.
 */
import type { Cpu } from '../cpu.js';
import type { ExecFn } from '../instr.js';
import {
  classify, DE, fromF32, fromF64, fromInt32, fromInt64, fromUint64, fx, I, IE, INF, R, roundToInt, SNAN, setResult,
  toF32, toF64, UE, OE, ZERO, RC_ZERO,
} from './softfloat.js';
import {
  begin, commit, isEmpty, phys, pop, pushR, rcOf, regHi, regLo, regSe, setEmpty, storeR, underflow, writeReg,
} from './stack.js';
import { loadConstant } from './constants.js';

const TWO32 = 4294967296;

/** Loads a memory operand into R, exactly (SNaNs kept signaling; m32/m64 denormals set fx.pendDE). */
export type MemLoad = (c: Cpu, a: number) => void;

export const loadM32: MemLoad = (c, a) => fromF32(c.mem.read32(a) >>> 0);
export const loadM64: MemLoad = (c, a) => {
  const lo = c.mem.read64(a);
  fromF64(lo, c.mem.hi);
};
export const loadM80: MemLoad = (c, a) => {
  const lo = c.mem.read64(a) >>> 0;
  const hi = c.mem.hi >>> 0;
  setResult(c.mem.read16(a + 8), hi, lo);
};
export const loadI16: MemLoad = (c, a) => fromInt32((c.mem.read16(a) << 16) >> 16);
export const loadI32: MemLoad = (c, a) => fromInt32(c.mem.read32(a));
export const loadI64: MemLoad = (c, a) => {
  const lo = c.mem.read64(a);
  fromInt64(lo, c.mem.hi);
};
/** 18-digit packed BCD (9 digit bytes + sign byte). Invalid digits give undefined results on hardware. */
export const loadBCD: MemLoad = (c, a) => {
  let high = 0, low = 0; // value = high * 1e9 + low
  for (let k = 8; k >= 0; k--) {
    const b = c.mem.read8(a + k);
    const two = (b >> 4) * 10 + (b & 15);
    if (k >= 5) high = high * 100 + two;
    else if (k === 4) {
      high = high * 10 + (b >> 4);
      low = b & 15;
    } else low = low * 100 + two;
  }
  const sign = c.mem.read8(a + 9) >> 7;
  // high * 1e9 + low as a 64-bit integer (high < 2^30, 1e9 < 2^30: exact in 16-bit pieces).
  const h1 = Math.floor(high / 65536), h0 = high % 65536;
  const p0 = h0 * 1e9 + low; // < 2^46
  const p1 = h1 * 1e9; // < 2^44, scaled by 2^16
  const loPart = (p0 % TWO32) + (p1 % 65536) * 65536;
  const lo = loPart % TWO32;
  const hi = Math.floor(p0 / TWO32) + Math.floor(p1 / 65536) + Math.floor(loPart / TWO32);
  fromUint64(sign, hi, lo);
};

// ------------------------------------------------------------------ loads

export function fldMem(load: MemLoad, quietSNaN: boolean): ExecFn {
  return (c, i) => {
    const x = c.x87, a = c.ea(i);
    begin(x, i);
    x.fdp = a;
    load(c, a);
    if (quietSNaN && classify(R.se, R.hi, R.lo) === SNAN) {
      fx.exc |= IE;
      R.hi |= 0x40000000;
    }
    if (!isEmpty(x, (x.top - 1) & 7)) fx.pendDE = 0; // a stack fault hides the denormal
    fx.exc |= fx.pendDE;
    pushR(x);
    commit(x);
  };
}

export const fldReg: ExecFn = (c, i) => {
  const x = c.x87;
  begin(x, i);
  const p = phys(x, i.sub);
  if (isEmpty(x, p)) underflow();
  else setResult(regSe(x, p), regHi(x, p), regLo(x, p));
  pushR(x);
  commit(x);
};

/** fld1, fldl2t, fldl2e, fldpi, fldlg2, fldln2, fldz (k = ModRM.rm). */
export function fldConst(k: number): ExecFn {
  return (c, i) => {
    const x = c.x87;
    begin(x, i);
    loadConstant(k, rcOf(x));
    pushR(x);
    commit(x);
  };
}

// ------------------------------------------------------------------ stores

/** Exceptions that suppress a store to memory when unmasked (no biased result can be stored there). */
const MEM_PRE_EXC = IE | DE | 4 | OE | UE;
function mayStoreMem(c: Cpu): boolean {
  return (fx.exc & ~c.x87.fcw & MEM_PRE_EXC) === 0;
}

export function fstM32(popAfter: boolean): ExecFn {
  return (c, i) => {
    const x = c.x87, a = c.ea(i);
    begin(x, i);
    x.fdp = a;
    const p = x.top;
    let bits: number;
    if (isEmpty(x, p)) {
      underflow();
      bits = 0xffc00000 | 0;
    } else bits = toF32(regSe(x, p), regHi(x, p), regLo(x, p), rcOf(x));
    if (mayStoreMem(c)) {
      c.mem.write32(a, bits | 0);
      if (popAfter) pop(x);
    }
    commit(x);
  };
}

export function fstM64(popAfter: boolean): ExecFn {
  return (c, i) => {
    const x = c.x87, a = c.ea(i);
    begin(x, i);
    x.fdp = a;
    const p = x.top;
    let lo: number, hi: number;
    if (isEmpty(x, p)) {
      underflow();
      lo = 0;
      hi = 0xfff80000 | 0;
    } else {
      lo = toF64(regSe(x, p), regHi(x, p), regLo(x, p), rcOf(x));
      hi = R.hi;
    }
    if (mayStoreMem(c)) {
      c.mem.write64(a, lo | 0, hi | 0);
      if (popAfter) pop(x);
    }
    commit(x);
  };
}

export const fstpM80: ExecFn = (c, i) => {
  const x = c.x87, a = c.ea(i);
  begin(x, i);
  x.fdp = a;
  const p = x.top;
  if (isEmpty(x, p)) underflow();
  else setResult(regSe(x, p), regHi(x, p), regLo(x, p));
  if (mayStoreMem(c)) {
    c.mem.write64(a, R.lo | 0, R.hi | 0);
    c.mem.write16(a + 8, R.se);
    pop(x);
  }
  commit(x);
};

/** fst / fstp ST(i). */
export function fstReg(popAfter: boolean): ExecFn {
  return (c, i) => {
    const x = c.x87;
    begin(x, i);
    const p = x.top;
    if (isEmpty(x, p)) underflow();
    else setResult(regSe(x, p), regHi(x, p), regLo(x, p));
    if (storeR(x, phys(x, i.sub)) && popAfter) pop(x);
    commit(x);
  };
}

// ------------------------------------------------------------------ integers

/** Integer result of toInt (a field, not a `let`: stores of uint32 values stay allocation-free). */
const INT = { lo: 0, hi: 0 };

/**
 * Converts ST(0)'s value to a signed integer of `bytes` bytes into INT.lo/INT.hi
 * (rc = rounding; fisttp passes RC_ZERO). NaN, infinity, unsupported and
 * out-of-range values raise IE and give the integer indefinite.
 */
function toInt(se: number, hi: number, lo: number, bytes: number, rc: number): void {
  const cls = classify(se, hi, lo);
  INT.hi = 0;
  INT.lo = 0;
  if (cls === ZERO) return;
  if (cls >= INF) return intIndefinite(bytes); // (denormal sources raise no DE here)
  const before = fx.exc;
  roundToInt(se, hi, lo, rc);
  const neg = se >>> 15;
  const mh = I.hi, ml = I.lo;
  let ok: boolean;
  if (mh === -1) ok = false;
  else if (bytes === 8) ok = mh < 0x80000000 || (neg === 1 && mh === 0x80000000 && ml === 0);
  else {
    const lim = bytes === 4 ? 0x80000000 : 0x8000;
    ok = mh === 0 && (ml < lim || (neg === 1 && ml === lim));
  }
  if (!ok) {
    fx.exc = before;
    fx.up = 0;
    return intIndefinite(bytes);
  }
  if (neg) {
    // Two's complement negation of mh:ml.
    let l = (~ml >>> 0) + 1, h = ~mh >>> 0;
    if (l >= TWO32) {
      l -= TWO32;
      h = (h + 1) >>> 0;
    }
    INT.lo = l;
    INT.hi = h;
  } else {
    INT.lo = ml;
    INT.hi = mh;
  }
}

function intIndefinite(bytes: number): void {
  fx.exc |= IE;
  INT.lo = bytes === 2 ? 0x8000 : bytes === 4 ? 0x80000000 : 0;
  INT.hi = bytes === 8 ? 0x80000000 : 0;
}

/** fist / fistp / fisttp to m16/m32/m64. */
export function fistMem(bytes: number, popAfter: boolean, truncate: boolean): ExecFn {
  return (c, i) => {
    const x = c.x87, a = c.ea(i);
    begin(x, i);
    x.fdp = a;
    const p = x.top;
    if (isEmpty(x, p)) {
      underflow();
      intIndefinite(bytes);
    } else toInt(regSe(x, p), regHi(x, p), regLo(x, p), bytes, truncate ? RC_ZERO : rcOf(x));
    if (mayStoreMem(c)) {
      if (bytes === 2) c.mem.write16(a, INT.lo & 0xffff);
      else if (bytes === 4) c.mem.write32(a, INT.lo | 0);
      else c.mem.write64(a, INT.lo | 0, INT.hi | 0);
      if (popAfter) pop(x);
    }
    commit(x);
  };
}

/** fbstp m80bcd: rounds with RC, stores 18 BCD digits; out of range → IE and the BCD indefinite. */
export const fbstp: ExecFn = (c, i) => {
  const x = c.x87, a = c.ea(i);
  begin(x, i);
  x.fdp = a;
  const p = x.top;
  const out = bcdScratch;
  out.fill(0);
  let bad = false;
  if (isEmpty(x, p)) {
    underflow();
    bad = true;
  } else {
    const se = regSe(x, p), hi = regHi(x, p), lo = regLo(x, p);
    const cls = classify(se, hi, lo);
    if (cls >= INF) bad = true;
    else if (cls !== ZERO) {
      const before = fx.exc;
      roundToInt(se, hi, lo, rcOf(x));
      // 10^18 = 0x0DE0B6B3A7640000
      if (I.hi === -1 || I.hi > 0x0de0b6b3 || (I.hi === 0x0de0b6b3 && I.lo >= 0xa7640000)) {
        fx.exc = before;
        fx.up = 0;
        bad = true;
      } else {
        let h = I.hi, l = I.lo;
        for (let k = 0; k < 18; k++) {
          // Divide h:l by 10.
          const qh = Math.floor(h / 10), rh = h - qh * 10;
          const cur = rh * TWO32 + l;
          const ql = Math.floor(cur / 10), digit = cur - ql * 10;
          h = qh;
          l = ql;
          out[k >> 1] |= k & 1 ? digit << 4 : digit;
        }
      }
    }
    if (!bad) out[9] = se & 0x8000 ? 0x80 : 0;
  }
  if (bad) {
    fx.exc |= IE;
    out.fill(0);
    out[7] = 0xc0;
    out[8] = 0xff;
    out[9] = 0xff;
  }
  if (mayStoreMem(c)) {
    for (let k = 0; k < 10; k++) c.mem.write8(a + k, out[k]);
    pop(x);
  }
  commit(x);
};
const bcdScratch = new Uint8Array(10);

// ------------------------------------------------------------------ register shuffles

export const fxch: ExecFn = (c, i) => {
  const x = c.x87;
  begin(x, i);
  const p0 = x.top, pi = phys(x, i.sub);
  const e0 = isEmpty(x, p0), ei = isEmpty(x, pi);
  if (e0 || ei) {
    underflow();
    if (!(x.fcw & IE)) return commit(x);
    if (e0) writeReg(x, p0, 0xffff, 0xc0000000, 0);
    if (ei) writeReg(x, pi, 0xffff, 0xc0000000, 0);
  }
  const se = regSe(x, p0), hi = regHi(x, p0), lo = regLo(x, p0);
  writeReg(x, p0, regSe(x, pi), regHi(x, pi), regLo(x, pi));
  writeReg(x, pi, se, hi, lo);
  commit(x);
};

/** fchs (signOp 1) / fabs (signOp 2): sign-bit operations, no exceptions even for SNaNs. */
export function fsign(signOp: number): ExecFn {
  return (c, i) => {
    const x = c.x87;
    begin(x, i);
    const p = x.top;
    if (isEmpty(x, p)) underflow();
    else {
      const se = regSe(x, p);
      setResult(signOp === 1 ? se ^ 0x8000 : se & 0x7fff, regHi(x, p), regLo(x, p));
    }
    storeR(x, p);
    commit(x);
  };
}

/** fcmovcc ST(0), ST(i) with the integer condition cc (as in Jcc). */
export function fcmov(cc: number): ExecFn {
  return (c, i) => {
    const x = c.x87;
    begin(x, i);
    const p0 = x.top, ps = phys(x, i.sub);
    if (isEmpty(x, p0) || isEmpty(x, ps)) {
      underflow();
      storeR(x, p0);
    } else if (c.cond(cc)) writeReg(x, p0, regSe(x, ps), regHi(x, ps), regLo(x, ps));
    commit(x);
  };
}

export const ffree: ExecFn = (c, i) => {
  const x = c.x87;
  begin(x, i);
  setEmpty(x, phys(x, i.sub));
};

/** ffreep (DF C0+i): ffree then pop. */
export const ffreep: ExecFn = (c, i) => {
  const x = c.x87;
  begin(x, i);
  setEmpty(x, phys(x, i.sub));
  pop(x);
};

export function fstep(delta: number): ExecFn {
  return (c, i) => {
    const x = c.x87;
    begin(x, i);
    x.top = (x.top + delta) & 7;
    commit(x);
  };
}

export const fnop: ExecFn = (c, i) => {
  begin(c.x87, i);
};
