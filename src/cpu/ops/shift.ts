import { CF, Cpu, FlagOp, OF, PARITY, RCX } from '../cpu.js';
import type { Instr } from '../instr.js';

/** Group-2 operation numbers (ModRM.reg). */
export const enum Sh { Rol = 0, Ror = 1, Rcl = 2, Rcr = 3, Shl = 4, Shr = 5, Sal = 6, Sar = 7 }

const BITS = [0, 8, 16, 0, 32, 0, 0, 0, 64];
const MASK = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];

/** Sets SF/ZF/PF from a result, CF and OF as given, AF cleared (as current CPUs do for shifts). */
function shiftFlags(c: Cpu, size: number, lo: number, hi: number, cf: number, of: number): void {
  const zf = size === 8 ? (lo | hi) === 0 : (lo & MASK[size]) === 0;
  const sf = size === 8 ? hi >>> 31 : (lo >>> (BITS[size] - 1)) & 1;
  c.fop = FlagOp.Explicit;
  c.fexp = cf | (PARITY[lo & 0xff] << 2) | ((zf ? 1 : 0) << 6) | (sf << 7) | (of << 11);
}

function msb(size: number, lo: number, hi: number): number {
  return size === 8 ? hi >>> 31 : (lo >>> (BITS[size] - 1)) & 1;
}

/** Shifts/rotates (lo, hi) of the given size by n (already masked, n > 0). Returns lo, high half in c.hi. */
export function shift(c: Cpu, op: number, size: number, a: number, ah: number, n: number): number {
  if (size === 8) return shift64(c, op, a, ah, n);
  const bits = BITS[size], m = MASK[size];
  a &= m;
  let r: number, cf: number;
  switch (op) {
    case Sh.Rol: {
      const k = n % bits;
      r = k === 0 ? a : ((a << k) | (a >>> (bits - k))) & m;
      cf = r & 1;
      c.setSomeFlags(CF | OF, cf | ((msb(size, r, 0) ^ cf) << 11));
      return r;
    }
    case Sh.Ror: {
      const k = n % bits;
      r = k === 0 ? a : ((a >>> k) | (a << (bits - k))) & m;
      const top = msb(size, r, 0);
      const next = (r >>> (bits - 2)) & 1;
      c.setSomeFlags(CF | OF, top | ((top ^ next) << 11));
      return r;
    }
    case Sh.Rcl:
    case Sh.Rcr: {
      const k = size < 4 ? n % (bits + 1) : n;
      cf = c.getCF();
      r = a;
      for (let j = 0; j < k; j++) {
        if (op === Sh.Rcl) {
          const out = (r >>> (bits - 1)) & 1;
          r = ((r << 1) | cf) & m;
          cf = out;
        } else {
          const out = r & 1;
          r = ((r >>> 1) | (cf << (bits - 1))) & m;
          cf = out;
        }
      }
      const of = op === Sh.Rcl ? msb(size, r, 0) ^ cf : msb(size, r, 0) ^ ((r >>> (bits - 2)) & 1);
      c.setSomeFlags(CF | OF, cf | (of << 11));
      return r;
    }
    case Sh.Shl:
    case Sh.Sal:
      r = n < 32 ? (a << n) & m : 0;
      cf = n <= bits ? (a >>> (bits - n)) & 1 : 0;
      shiftFlags(c, size, r, 0, cf, msb(size, r, 0) ^ cf);
      return r;
    case Sh.Shr:
      r = a >>> n;
      cf = (a >>> (n - 1)) & 1;
      shiftFlags(c, size, r, 0, cf, msb(size, a, 0));
      return r;
    default: {
      const sa = size === 1 ? (a << 24) >> 24 : size === 2 ? (a << 16) >> 16 : a | 0;
      r = (sa >> n) & m;
      cf = (sa >> (n - 1)) & 1;
      shiftFlags(c, size, r, 0, cf, 0);
      return r;
    }
  }
}

function shift64(c: Cpu, op: number, a: number, ah: number, n: number): number {
  let lo: number, hi: number, cf: number;
  switch (op) {
    case Sh.Rol:
    case Sh.Ror: {
      const k = op === Sh.Rol ? n : 64 - n;
      lo = rotl64lo(a, ah, k);
      hi = rotl64hi(a, ah, k);
      if (op === Sh.Rol) {
        cf = lo & 1;
        c.setSomeFlags(CF | OF, cf | (((hi >>> 31) ^ cf) << 11));
      } else {
        const top = hi >>> 31;
        c.setSomeFlags(CF | OF, top | ((top ^ ((hi >>> 30) & 1)) << 11));
      }
      c.hi = hi;
      return lo;
    }
    case Sh.Rcl:
    case Sh.Rcr: {
      cf = c.getCF();
      lo = a; hi = ah;
      for (let j = 0; j < n; j++) {
        if (op === Sh.Rcl) {
          const o = hi >>> 31;
          hi = (hi << 1) | (lo >>> 31);
          lo = (lo << 1) | cf;
          cf = o;
        } else {
          const o = lo & 1;
          lo = (lo >>> 1) | (hi << 31);
          hi = (hi >>> 1) | (cf << 31);
          cf = o;
        }
      }
      const of = op === Sh.Rcl ? (hi >>> 31) ^ cf : (hi >>> 31) ^ ((hi >>> 30) & 1);
      c.setSomeFlags(CF | OF, cf | (of << 11));
      c.hi = hi;
      return lo;
    }
    case Sh.Shl:
    case Sh.Sal:
      if (n < 32) {
        hi = (ah << n) | (a >>> (32 - n));
        lo = a << n;
        cf = (ah >>> (32 - n)) & 1;
      } else {
        hi = a << (n - 32);
        lo = 0;
        cf = n === 32 ? ah & 1 : (a >>> (64 - n)) & 1;
      }
      shiftFlags(c, 8, lo, hi, cf, (hi >>> 31) ^ cf);
      c.hi = hi;
      return lo;
    case Sh.Shr:
      if (n < 32) {
        lo = (a >>> n) | (ah << (32 - n));
        hi = ah >>> n;
        cf = (a >>> (n - 1)) & 1;
      } else {
        lo = ah >>> (n - 32);
        hi = 0;
        cf = n === 32 ? a >>> 31 : (ah >>> (n - 33)) & 1;
      }
      shiftFlags(c, 8, lo, hi, cf, ah >>> 31);
      c.hi = hi;
      return lo;
    default:
      if (n < 32) {
        lo = (a >>> n) | (ah << (32 - n));
        hi = ah >> n;
        cf = (a >>> (n - 1)) & 1;
      } else {
        lo = ah >> (n - 32);
        hi = ah >> 31;
        cf = n === 32 ? a >>> 31 : (ah >> (n - 33)) & 1;
      }
      shiftFlags(c, 8, lo, hi, cf, 0);
      c.hi = hi;
      return lo;
  }
}

/** Rotate-left helpers for 64-bit values (k in 0..64). */
function rotl64lo(lo: number, hi: number, k: number): number {
  k &= 63;
  if (k === 0) return lo;
  if (k < 32) return (lo << k) | (hi >>> (32 - k));
  if (k === 32) return hi;
  return (hi << (k - 32)) | (lo >>> (64 - k));
}
function rotl64hi(lo: number, hi: number, k: number): number {
  k &= 63;
  if (k === 0) return hi;
  if (k < 32) return (hi << k) | (lo >>> (32 - k));
  if (k === 32) return lo;
  return (lo << (k - 32)) | (hi >>> (64 - k));
}

/**
 * Group 2: i.sub = operation; count source in i.sub2: 0 = imm (i.imm), 1 = one, 2 = cl.
 */
export function shiftRm(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const raw = i.sub2 === 2 ? c.r[2 * RCX] : i.sub2 === 1 ? 1 : i.imm;
  const n = raw & (s === 8 ? 63 : 31);
  if (n === 0) {
    // Flags are untouched, but a 32-bit register destination is still written: its upper half is zeroed.
    if (s === 4 && !i.isMem) c.r[2 * i.rm + 1] = 0;
    return;
  }
  if (i.isMem) {
    const ad = c.ea(i);
    const a = c.readMem(ad, s), ah = c.hi;
    c.writeMem(ad, s, a, ah); // a faulting write must leave the flags alone
    const r = shift(c, i.sub, s, a, ah, n);
    c.writeMem(ad, s, r, c.hi);
  } else {
    const a = c.getReg(i.rm, s), ah = c.hi;
    const r = shift(c, i.sub, s, a, ah, n);
    c.setReg(i.rm, s, r, c.hi);
  }
}

/** shld/shrd r/m, reg, imm8|cl (i.sub: 0 = shld, 1 = shrd; i.sub2: 0 imm, 2 cl). */
export function shiftDouble(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const raw = i.sub2 === 2 ? c.r[2 * RCX] : i.imm;
  const n = raw & (s === 8 ? 63 : 31);
  if (n === 0) {
    if (s === 4 && !i.isMem) c.r[2 * i.rm + 1] = 0; // the 32-bit destination is written (zero-extended) all the same
    return;
  }
  const ad = i.isMem ? c.ea(i) : 0;
  const a = i.isMem ? c.readMem(ad, s) : c.getReg(i.rm, s), ah = c.hi;
  const b = c.getReg(i.reg, s), bh = c.hi;
  const bits = BITS[s];
  // Work in BigInt: shld/shrd are rare outside bignum code, and the 128/64-bit concatenation is awkward on halves.
  const A = s === 8 ? (BigInt(ah >>> 0) << 32n) | BigInt(a >>> 0) : BigInt((a & MASK[s]) >>> 0) & ((1n << BigInt(bits)) - 1n);
  const B = s === 8 ? (BigInt(bh >>> 0) << 32n) | BigInt(b >>> 0) : BigInt((b & MASK[s]) >>> 0) & ((1n << BigInt(bits)) - 1n);
  const W = BigInt(bits), N = BigInt(n), M = (1n << W) - 1n;
  let R: bigint, cf: number;
  if (i.sub === 0) {
    const cat = (A << W) | B;
    R = ((cat << N) >> W) & M;
    cf = Number((A >> (W - N)) & 1n);
  } else {
    const cat = (B << W) | A;
    R = (cat >> N) & M;
    cf = Number((A >> (N - 1n)) & 1n);
  }
  const lo = Number(R & 0xffffffffn) | 0, hi = Number(R >> 32n) | 0;
  const of = msb(s, lo, hi) ^ msb(s, a, ah);
  if (i.isMem) c.writeMem(ad, s, lo, hi); else c.setReg(i.rm, s, lo, hi);
  shiftFlags(c, s, lo, hi, cf, of);
}

/** BMI2 shlx/shrx/sarx/rorx (flagless, VEX-encoded) live in ../vex/bmi.ts. */
