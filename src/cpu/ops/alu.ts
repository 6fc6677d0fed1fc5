import { Cpu, FlagOp, RAX, RDX } from '../cpu.js';
import type { Instr } from '../instr.js';
import { big64, bigS64, mul64s, mul64u, mulhs32, mulhu32, out } from '../arith.js';

/** ALU operation numbers as in the opcode (00-3F) and group-1 reg field. */
export const enum Alu { Add = 0, Or = 1, Adc = 2, Sbb = 3, And = 4, Sub = 5, Xor = 6, Cmp = 7 }

const MASK = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];

/** Thrown by div/idiv on divide error; the engine turns it into SIGFPE. */
export const DIVIDE_ERROR = { divideError: true };

/**
 * a OP b at the given size. Returns the low word; the high word (size 8) is
 * left in c.hi. Values of size 1/2 are unsigned-masked, size 4 int32.
 */
export function alu(c: Cpu, op: number, size: number, a: number, ah: number, b: number, bh: number): number {
  if (size === 8) return alu64(c, op, a, ah, b, bh);
  const m = MASK[size];
  let r: number;
  switch (op) {
    case Alu.Add:
      r = (a + b) & m;
      c.setFlags(FlagOp.Add, size, r, 0, a, 0, b, 0);
      return r;
    case Alu.Or:
      r = (a | b) & m;
      c.setFlags(FlagOp.Logic, size, r, 0, a, 0, b, 0);
      return r;
    case Alu.Adc: {
      const cin = c.getCF();
      r = (a + b + cin) & m;
      c.setFlags(FlagOp.Adc, size, r, 0, a, 0, b, 0);
      c.fcin = cin;
      return r;
    }
    case Alu.Sbb: {
      const cin = c.getCF();
      r = (a - b - cin) & m;
      c.setFlags(FlagOp.Sbb, size, r, 0, a, 0, b, 0);
      c.fcin = cin;
      return r;
    }
    case Alu.And:
      r = a & b & m;
      c.setFlags(FlagOp.Logic, size, r, 0, a, 0, b, 0);
      return r;
    case Alu.Sub:
    case Alu.Cmp:
      r = (a - b) & m;
      c.setFlags(FlagOp.Sub, size, r, 0, a, 0, b, 0);
      return r;
    default:
      r = (a ^ b) & m;
      c.setFlags(FlagOp.Logic, size, r, 0, a, 0, b, 0);
      return r;
  }
}

function alu64(c: Cpu, op: number, a: number, ah: number, b: number, bh: number): number {
  let lo: number, hi: number;
  switch (op) {
    case Alu.Add: {
      lo = (a + b) | 0;
      hi = (ah + bh + ((lo >>> 0) < (a >>> 0) ? 1 : 0)) | 0;
      c.setFlags(FlagOp.Add, 8, lo, hi, a, ah, b, bh);
      break;
    }
    case Alu.Adc: {
      const cin = c.getCF();
      const s = (a >>> 0) + (b >>> 0) + cin;
      lo = s | 0;
      hi = (ah + bh + (s > 0xffffffff ? 1 : 0)) | 0;
      c.setFlags(FlagOp.Adc, 8, lo, hi, a, ah, b, bh);
      c.fcin = cin;
      break;
    }
    case Alu.Sbb: {
      const cin = c.getCF();
      const s = (a >>> 0) - (b >>> 0) - cin;
      lo = s | 0;
      hi = (ah - bh - (s < 0 ? 1 : 0)) | 0;
      c.setFlags(FlagOp.Sbb, 8, lo, hi, a, ah, b, bh);
      c.fcin = cin;
      break;
    }
    case Alu.Sub:
    case Alu.Cmp: {
      lo = (a - b) | 0;
      hi = (ah - bh - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0;
      c.setFlags(FlagOp.Sub, 8, lo, hi, a, ah, b, bh);
      break;
    }
    case Alu.Or:
      lo = a | b; hi = ah | bh;
      c.setFlags(FlagOp.Logic, 8, lo, hi, a, ah, b, bh);
      break;
    case Alu.And:
      lo = a & b; hi = ah & bh;
      c.setFlags(FlagOp.Logic, 8, lo, hi, a, ah, b, bh);
      break;
    default:
      lo = a ^ b; hi = ah ^ bh;
      c.setFlags(FlagOp.Logic, 8, lo, hi, a, ah, b, bh);
  }
  c.hi = hi;
  return lo;
}

// ------------------------------------------------------------ ALU forms (i.sub = op)

/** op r/m, reg */
export function aluRmReg(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const b = c.getReg(i.reg, s), bh = c.hi;
  if (i.isMem) {
    const ad = c.ea(i);
    const a = c.readMem(ad, s), ah = c.hi;
    // A write that faults must leave the flags as they were: check it first.
    if (i.sub !== Alu.Cmp) c.writeMem(ad, s, a, ah);
    const r = alu(c, i.sub, s, a, ah, b, bh);
    if (i.sub !== Alu.Cmp) c.writeMem(ad, s, r, c.hi);
  } else {
    const a = c.getReg(i.rm, s), ah = c.hi;
    const r = alu(c, i.sub, s, a, ah, b, bh);
    if (i.sub !== Alu.Cmp) c.setReg(i.rm, s, r, c.hi);
  }
}
/** op reg, r/m */
export function aluRegRm(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const b = c.readRM(i, s), bh = c.hi;
  const a = c.getReg(i.reg, s), ah = c.hi;
  const r = alu(c, i.sub, s, a, ah, b, bh);
  if (i.sub !== Alu.Cmp) c.setReg(i.reg, s, r, c.hi);
}
/** op r/m, imm (also op al/eax/rax, imm with rm = RAX) */
export function aluRmImm(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const b = s === 1 ? i.imm & 0xff : s === 2 ? i.imm & 0xffff : i.imm;
  const bh = i.imm >> 31;
  if (i.isMem) {
    const ad = c.ea(i);
    const a = c.readMem(ad, s), ah = c.hi;
    // A write that faults must leave the flags as they were: check it first.
    if (i.sub !== Alu.Cmp) c.writeMem(ad, s, a, ah);
    const r = alu(c, i.sub, s, a, ah, b, bh);
    if (i.sub !== Alu.Cmp) c.writeMem(ad, s, r, c.hi);
  } else {
    const a = c.getReg(i.rm, s), ah = c.hi;
    const r = alu(c, i.sub, s, a, ah, b, bh);
    if (i.sub !== Alu.Cmp) c.setReg(i.rm, s, r, c.hi);
  }
}

// Specialised hot forms: 32/64-bit register-register and register-immediate.
export function add64RegReg(c: Cpu, i: Instr): void {
  const r = c.r, d = 2 * i.rm, s = 2 * i.reg;
  const a = r[d], ah = r[d + 1], b = r[s], bh = r[s + 1];
  const lo = (a + b) | 0;
  const hi = (ah + bh + ((lo >>> 0) < (a >>> 0) ? 1 : 0)) | 0;
  r[d] = lo; r[d + 1] = hi;
  c.fop = FlagOp.Add; c.fsz = 8; c.fres = lo; c.fresh = hi; c.fa = a; c.fah = ah; c.fb = b; c.fbh = bh;
}
export function cmp64RegImm(c: Cpu, i: Instr): void {
  const r = c.r, d = 2 * i.rm;
  const a = r[d], ah = r[d + 1], b = i.imm, bh = i.imm >> 31;
  const lo = (a - b) | 0;
  const hi = (ah - bh - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0;
  c.fop = FlagOp.Sub; c.fsz = 8; c.fres = lo; c.fresh = hi; c.fa = a; c.fah = ah; c.fb = b; c.fbh = bh;
}
export function cmp32RegReg(c: Cpu, i: Instr): void {
  const a = c.r[2 * i.rm], b = c.r[2 * i.reg];
  c.fop = FlagOp.Sub; c.fsz = 4; c.fres = (a - b) | 0; c.fa = a; c.fb = b;
}
export function xor32Zero(c: Cpu, i: Instr): void {
  c.r[2 * i.rm] = 0; c.r[2 * i.rm + 1] = 0;
  c.fop = FlagOp.Logic; c.fsz = 4; c.fres = 0; c.fa = 0; c.fb = 0;
}

/** test r/m, reg */
export function testRmReg(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const b = c.getReg(i.reg, s), bh = c.hi;
  const a = c.readRM(i, s), ah = c.hi;
  c.setFlags(FlagOp.Logic, s, a & b, ah & bh, 0, 0, 0, 0);
}
/** test r/m, imm */
export function testRmImm(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const a = c.readRM(i, s), ah = c.hi;
  c.setFlags(FlagOp.Logic, s, a & i.imm & MASK[s], ah & (i.imm >> 31), 0, 0, 0, 0);
}

/** inc/dec r/m (i.sub = 0 inc, 1 dec): CF preserved. */
export function incDec(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const cf = c.getCF();
  let ad = 0, a: number, ah: number;
  if (i.isMem) { ad = c.ea(i); a = c.readMem(ad, s); ah = c.hi; c.writeMem(ad, s, a, ah); } else { a = c.getReg(i.rm, s); ah = c.hi; }
  const r = alu(c, i.sub === 0 ? Alu.Add : Alu.Sub, s, a, ah, 1, 0);
  const rh = c.hi;
  c.fop = i.sub === 0 ? FlagOp.Inc : FlagOp.Dec;
  c.fcin = cf;
  if (i.isMem) c.writeMem(ad, s, r, rh); else c.setReg(i.rm, s, r, rh);
}

/** not r/m */
export function notRm(c: Cpu, i: Instr): void {
  const s = i.opsize;
  if (i.isMem) {
    const ad = c.ea(i);
    const a = c.readMem(ad, s), ah = c.hi;
    c.writeMem(ad, s, ~a, ~ah);
  } else {
    const a = c.getReg(i.rm, s), ah = c.hi;
    c.setReg(i.rm, s, ~a, ~ah);
  }
}
/** neg r/m = 0 - x */
export function negRm(c: Cpu, i: Instr): void {
  const s = i.opsize;
  let ad = 0, a: number, ah: number;
  if (i.isMem) { ad = c.ea(i); a = c.readMem(ad, s); ah = c.hi; c.writeMem(ad, s, a, ah); } else { a = c.getReg(i.rm, s); ah = c.hi; }
  const r = alu(c, Alu.Sub, s, 0, 0, a, ah);
  if (i.isMem) c.writeMem(ad, s, r, c.hi); else c.setReg(i.rm, s, r, c.hi);
}

// ------------------------------------------------------------ multiply / divide

function setMulFlags(c: Cpu, s: number, lo: number, hi: number, overflow: boolean): void {
  // CF=OF=overflow; SF/ZF/PF follow the low result on current CPUs (architecturally undefined).
  const of = overflow ? 1 : 0;
  c.setFlags(FlagOp.Logic, s, lo, hi, 0, 0, 0, 0);
  const sf = c.getSF(), zf = c.getZF(), pf = c.getPF();
  c.fop = FlagOp.Explicit;
  c.fexp = of | (pf << 2) | (zf << 6) | (sf << 7) | (of << 11);
}

/** mul r/m (unsigned, F6/F7 /4) */
export function mulRm(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const b = c.readRM(i, s), bh = c.hi;
  const r = c.r;
  switch (s) {
    case 1: {
      const p = (r[0] & 0xff) * b;
      c.set16(RAX, p);
      setMulFlags(c, 1, p & 0xff, 0, p > 0xff);
      break;
    }
    case 2: {
      const p = (r[0] & 0xffff) * b;
      c.set16(RAX, p);
      c.set16(RDX, p >>> 16);
      setMulFlags(c, 2, p & 0xffff, 0, p > 0xffff);
      break;
    }
    case 4: {
      const a = r[0];
      const lo = Math.imul(a, b), hi = mulhu32(a, b);
      c.set32(RAX, lo);
      c.set32(RDX, hi);
      setMulFlags(c, 4, lo, 0, hi !== 0);
      break;
    }
    default: {
      mul64u(r[0], r[1], b, bh);
      const w0 = out[0], w1 = out[1], w2 = out[2], w3 = out[3];
      c.set64(RAX, w0, w1);
      c.set64(RDX, w2, w3);
      setMulFlags(c, 8, w0, w1, (w2 | w3) !== 0);
    }
  }
}

/** imul r/m (one operand, signed, F6/F7 /5) */
export function imul1Rm(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const b = c.readRM(i, s), bh = c.hi;
  const r = c.r;
  switch (s) {
    case 1: {
      const p = ((r[0] << 24) >> 24) * ((b << 24) >> 24);
      c.set16(RAX, p);
      setMulFlags(c, 1, p & 0xff, 0, p !== ((p << 24) >> 24));
      break;
    }
    case 2: {
      const p = ((r[0] << 16) >> 16) * ((b << 16) >> 16);
      c.set16(RAX, p);
      c.set16(RDX, p >> 16);
      setMulFlags(c, 2, p & 0xffff, 0, p !== ((p << 16) >> 16));
      break;
    }
    case 4: {
      const a = r[0];
      const lo = Math.imul(a, b), hi = mulhs32(a, b);
      c.set32(RAX, lo);
      c.set32(RDX, hi);
      setMulFlags(c, 4, lo, 0, hi !== lo >> 31);
      break;
    }
    default: {
      mul64s(r[0], r[1], b, bh);
      const w0 = out[0], w1 = out[1], w2 = out[2], w3 = out[3];
      c.set64(RAX, w0, w1);
      c.set64(RDX, w2, w3);
      const sign = w1 >> 31;
      setMulFlags(c, 8, w0, w1, w2 !== sign || w3 !== sign);
    }
  }
}

/** imul reg, r/m[, imm] (0F AF; 69/6B with i.sub = 1 meaning "has immediate") */
export function imulRegRm(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const a = c.readRM(i, s), ah = c.hi;
  let b: number, bh: number;
  if (i.sub) { b = i.imm; bh = i.imm >> 31; } else { b = c.getReg(i.reg, s); bh = c.hi; }
  switch (s) {
    case 2: {
      const p = ((a << 16) >> 16) * ((b << 16) >> 16);
      c.set16(i.reg, p);
      setMulFlags(c, 2, p & 0xffff, 0, p !== ((p << 16) >> 16));
      break;
    }
    case 4: {
      const lo = Math.imul(a, b), hi = mulhs32(a, b);
      c.set32(i.reg, lo);
      setMulFlags(c, 4, lo, 0, hi !== lo >> 31);
      break;
    }
    default: {
      mul64s(a, ah, b, bh);
      const w0 = out[0], w1 = out[1], w2 = out[2], w3 = out[3];
      c.set64(i.reg, w0, w1);
      const sign = w1 >> 31;
      setMulFlags(c, 8, w0, w1, w2 !== sign || w3 !== sign);
    }
  }
}

const TWO32 = 4294967296;

/** div r/m (unsigned, F6/F7 /6) */
export function divRm(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const d = c.readRM(i, s), dh = c.hi;
  const r = c.r;
  switch (s) {
    case 1: {
      if (d === 0) throw DIVIDE_ERROR;
      const n = r[0] & 0xffff;
      const q = Math.floor(n / d);
      if (q > 0xff) throw DIVIDE_ERROR;
      c.set16(RAX, ((n % d) << 8) | q);
      break;
    }
    case 2: {
      if (d === 0) throw DIVIDE_ERROR;
      const n = (r[4] & 0xffff) * 65536 + (r[0] & 0xffff);
      const q = Math.floor(n / d);
      if (q > 0xffff) throw DIVIDE_ERROR;
      c.set16(RAX, q);
      c.set16(RDX, n % d);
      break;
    }
    case 4: {
      const du = d >>> 0;
      if (du === 0) throw DIVIDE_ERROR;
      const nh = r[4] >>> 0, nl = r[0] >>> 0;
      if (nh === 0) {
        c.set32(RAX, Math.floor(nl / du));
        c.set32(RDX, nl % du);
        break;
      }
      if (nh >= du) throw DIVIDE_ERROR;
      const n = (BigInt(nh) << 32n) | BigInt(nl);
      const bd = BigInt(du);
      c.set32(RAX, Number(n / bd));
      c.set32(RDX, Number(n % bd));
      break;
    }
    default: {
      if ((d | dh) === 0) throw DIVIDE_ERROR;
      const nl = r[0], nh = r[1], xl = r[4], xh = r[5];
      // Fast path: 53-bit dividend and divisor, no high quadword.
      if ((xl | xh) === 0 && (nh >>> 0) < 0x200000 && (dh >>> 0) < 0x200000) {
        const n = (nh >>> 0) * TWO32 + (nl >>> 0);
        const dv = (dh >>> 0) * TWO32 + (d >>> 0);
        const q = Math.floor(n / dv);
        c.setS(RAX, q);
        c.setS(RDX, n - q * dv);
        break;
      }
      const n = (big64(xl, xh) << 64n) | big64(nl, nh);
      const bd = big64(d, dh);
      const q = n / bd;
      if (q > 0xffffffffffffffffn) throw DIVIDE_ERROR;
      c.setBig(RAX, q);
      c.setBig(RDX, n % bd);
    }
  }
}

/** idiv r/m (signed, F6/F7 /7) */
export function idivRm(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const d = c.readRM(i, s), dh = c.hi;
  const r = c.r;
  switch (s) {
    case 1: {
      const dv = (d << 24) >> 24;
      if (dv === 0) throw DIVIDE_ERROR;
      const n = (r[0] << 16) >> 16;
      const q = Math.trunc(n / dv);
      if (q > 127 || q < -128) throw DIVIDE_ERROR;
      c.set16(RAX, (((n % dv) & 0xff) << 8) | (q & 0xff));
      break;
    }
    case 2: {
      const dv = (d << 16) >> 16;
      if (dv === 0) throw DIVIDE_ERROR;
      const n = ((r[4] << 16) | (r[0] & 0xffff));
      const q = Math.trunc(n / dv);
      if (q > 32767 || q < -32768) throw DIVIDE_ERROR;
      c.set16(RAX, q);
      c.set16(RDX, n % dv);
      break;
    }
    case 4: {
      if (d === 0) throw DIVIDE_ERROR;
      const nl = r[0], nh = r[4];
      if (nh === nl >> 31) {
        // Dividend fits in 32 bits.
        const q = Math.trunc(nl / d);
        if (q > 2147483647) throw DIVIDE_ERROR;
        c.set32(RAX, q);
        c.set32(RDX, nl % d);
        break;
      }
      const n = (BigInt(nh) << 32n) | BigInt(nl >>> 0);
      const bd = BigInt(d);
      const q = n / bd;
      if (q > 2147483647n || q < -2147483648n) throw DIVIDE_ERROR;
      c.set32(RAX, Number(BigInt.asIntN(32, q)));
      c.set32(RDX, Number(BigInt.asIntN(32, n % bd)));
      break;
    }
    default: {
      if ((d | dh) === 0) throw DIVIDE_ERROR;
      const nl = r[0], nh = r[1], xl = r[4], xh = r[5];
      const sign = nh >> 31;
      // Fast path: rdx is the sign extension of rax and both fit in 53 bits.
      if (xl === sign && xh === sign && Math.abs(nh) < 0x200000 && Math.abs(dh) < 0x200000 && nh !== -0x200000) {
        const n = nh * TWO32 + (nl >>> 0);
        const dv = dh * TWO32 + (d >>> 0);
        const q = Math.trunc(n / dv);
        c.setS(RAX, q);
        c.setS(RDX, n - q * dv);
        break;
      }
      const n = (bigS64(xl, xh) << 64n) | big64(nl, nh);
      const bd = bigS64(d, dh);
      const q = n / bd;
      if (q > 0x7fffffffffffffffn || q < -0x8000000000000000n) throw DIVIDE_ERROR;
      c.setBig(RAX, BigInt.asUintN(64, q));
      c.setBig(RDX, BigInt.asUintN(64, n % bd));
    }
  }
}
