import { Cpu, FlagOp, PARITY, RDX } from '../cpu.js';
import type { Instr } from '../instr.js';
import { mul64u, mulhu32, out } from '../arith.js';
import { hi64, pdep64, pext64, ror64, sar64, shl64, shr64 } from './bits64.js';

/**
 * BMI1 (andn, bextr, blsi, blsmsk, blsr) and BMI2 (bzhi, pdep, pext, rorx,
 * sarx, shlx, shrx, mulx). Operand size is 4 or 8 (VEX.W); 32-bit results
 * zero-extend. Operands: i.reg = ModRM.reg, r/m = ModRM.rm, i.vvvv = VEX.vvvv.
 */

/**
 * Sets the arithmetic flags of a BMI1/bzhi result: ZF and SF from the
 * result, CF as given, OF cleared. AF and PF are architecturally undefined;
 * this host's CPUs (and Intel's, per published traces) clear AF and compute
 * PF from the low byte, which is what is done here.
 */
function logicFlags(c: Cpu, s: number, lo: number, hi: number, cf: number, zfOverride = -1): void {
  const zf = zfOverride >= 0 ? zfOverride : (s === 8 ? (lo | hi) === 0 : lo === 0) ? 1 : 0;
  const sf = s === 8 ? hi >>> 31 : lo >>> 31;
  c.fop = FlagOp.Explicit;
  c.fexp = cf | (PARITY[lo & 0xff] << 2) | (zf << 6) | (sf << 7);
}

/** Reads the r/m source at size s (low half returned, high in c.hi; 0 for 32-bit). */
function src(c: Cpu, i: Instr, s: number): number {
  const lo = c.readRM(i, s);
  if (s === 4) c.hi = 0;
  return lo;
}

/** andn reg, vvvv, r/m: reg = ~vvvv & r/m. */
export function andn(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const b = src(c, i, s), bh = c.hi;
  const a = c.r[2 * i.vvvv], ah = s === 8 ? c.r[2 * i.vvvv + 1] : 0;
  const lo = ~a & b, hi = ~ah & bh;
  c.setReg(i.reg, s, lo, hi);
  logicFlags(c, s, lo, hi, 0);
}

/** bextr reg, r/m, vvvv: bits [start, start+len) of r/m, start = vvvv[7:0], len = vvvv[15:8]. */
export function bextr(c: Cpu, i: Instr): void {
  const s = i.opsize, bits = s * 8;
  const v = src(c, i, s), vh = c.hi;
  const ctl = c.r[2 * i.vvvv];
  const start = ctl & 0xff, len = (ctl >>> 8) & 0xff;
  let lo = 0, hi = 0;
  if (start < bits) {
    lo = shr64(v, vh, start);
    hi = hi64.v;
    if (len < bits) {
      // Keep the low len bits.
      if (len < 32) { lo &= len === 0 ? 0 : -1 >>> (32 - len); hi = 0; }
      else hi &= len === 32 ? 0 : -1 >>> (64 - len);
    }
  }
  if (s === 4) hi = 0;
  c.setReg(i.reg, s, lo, hi);
  logicFlags(c, s, lo, hi, 0);
}

/** Group 17 (0F38 F3): blsr /1, blsmsk /2, blsi /3; the destination is vvvv. i.sub = reg field. */
export function blsGroup(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const v = src(c, i, s), vh = c.hi;
  const zero = (v | (s === 8 ? vh : 0)) === 0;
  // v - 1 on halves.
  const ml = (v - 1) | 0, mh = s === 8 ? (v === 0 ? (vh - 1) | 0 : vh) : 0;
  let lo: number, hi: number;
  switch (i.sub) {
    case 1: lo = v & ml; hi = vh & mh; break; // blsr: clear the lowest set bit
    case 2: lo = v ^ ml; hi = vh ^ mh; break; // blsmsk: mask up to the lowest set bit
    default: {
      // blsi: isolate the lowest set bit = v & -v
      const nl = -v | 0, nh = s === 8 ? (~vh + (v === 0 ? 1 : 0)) | 0 : 0;
      lo = v & nl; hi = vh & nh;
    }
  }
  if (s === 4) hi = 0;
  c.setReg(i.vvvv, s, lo, hi);
  // blsi: CF = source non-zero; blsr/blsmsk: CF = source zero. blsmsk always clears ZF.
  const cf = i.sub === 3 ? (zero ? 0 : 1) : zero ? 1 : 0;
  logicFlags(c, s, lo, hi, cf, i.sub === 2 ? 0 : -1);
}

/** bzhi reg, r/m, vvvv: r/m with bits from index vvvv[7:0] up cleared; CF = index ≥ operand size. */
export function bzhi(c: Cpu, i: Instr): void {
  const s = i.opsize, bits = s * 8;
  let lo = src(c, i, s), hi = c.hi;
  const n = c.r[2 * i.vvvv] & 0xff;
  if (n < bits) {
    if (n < 32) { lo &= n === 0 ? 0 : -1 >>> (32 - n); hi = 0; }
    else hi &= n === 32 ? 0 : -1 >>> (64 - n);
  }
  c.setReg(i.reg, s, lo, hi);
  logicFlags(c, s, lo, hi, n >= bits ? 1 : 0);
}

/** pdep reg, vvvv, r/m (the mask): flags unaffected. */
export function pdep(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const m = src(c, i, s), mh = c.hi;
  const lo = pdep64(c.r[2 * i.vvvv], s === 8 ? c.r[2 * i.vvvv + 1] : 0, m, mh);
  c.setReg(i.reg, s, lo, hi64.v);
}

/** pext reg, vvvv, r/m (the mask): flags unaffected. */
export function pext(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const m = src(c, i, s), mh = c.hi;
  const lo = pext64(c.r[2 * i.vvvv], s === 8 ? c.r[2 * i.vvvv + 1] : 0, m, mh);
  c.setReg(i.reg, s, lo, hi64.v);
}

/** rorx reg, r/m, imm8: rotate right, flags unaffected. */
export function rorx(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const v = src(c, i, s), vh = c.hi;
  if (s === 4) {
    const n = i.imm & 31;
    c.set32(i.reg, n === 0 ? v : (v >>> n) | (v << (32 - n)));
    return;
  }
  const lo = ror64(v, vh, i.imm & 63);
  c.set64(i.reg, lo, hi64.v);
}

/** shlx / shrx / sarx reg, r/m, vvvv (i.sub: 0 shl, 1 shr, 2 sar): count masked to the size, flags unaffected. */
export function shiftX(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const v = src(c, i, s), vh = c.hi;
  if (s === 4) {
    const n = c.r[2 * i.vvvv] & 31;
    c.set32(i.reg, i.sub === 0 ? v << n : i.sub === 1 ? v >>> n : v >> n);
    return;
  }
  const n = c.r[2 * i.vvvv] & 63;
  const lo = i.sub === 0 ? shl64(v, vh, n) : i.sub === 1 ? shr64(v, vh, n) : sar64(v, vh, n);
  c.set64(i.reg, lo, hi64.v);
}

/** mulx hi_reg, lo_vvvv, r/m: unsigned rdx × r/m; flags unaffected. With reg = vvvv the high half wins. */
export function mulx(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const b = src(c, i, s), bh = c.hi;
  if (s === 4) {
    const a = c.r[2 * RDX];
    const lo = Math.imul(a, b), hi = mulhu32(a, b);
    c.set32(i.vvvv, lo);
    c.set32(i.reg, hi);
    return;
  }
  mul64u(c.r[2 * RDX], c.r[2 * RDX + 1], b, bh);
  const w0 = out[0], w1 = out[1], w2 = out[2], w3 = out[3];
  c.set64(i.vvvv, w0, w1);
  c.set64(i.reg, w2, w3);
}

