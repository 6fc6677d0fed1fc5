import { CF, Cpu, FlagOp, OF, PF, SF, AF, ZF, RAX, RBX, RCX, RDX } from '../cpu.js';
import type { Instr } from '../instr.js';
import { GuestFault } from '../../mem/fault.js';
import { ctz32, popcnt32 } from '../arith.js';
import { Alu, alu } from './alu.js';

/** bt/bts/btr/btc: i.sub = 0 bt, 1 bts, 2 btr, 3 btc; i.sub2 = 1 when the offset is an immediate. */
export function bitTest(c: Cpu, i: Instr): void {
  const s = i.opsize;
  if (!i.isMem) {
    const off = (i.sub2 ? i.imm : c.r[2 * i.reg]) & (s * 8 - 1);
    let lo = c.getReg(i.rm, s), hi = c.hi;
    const inHi = off >= 32;
    const bit = 1 << (off & 31);
    const cf = ((inHi ? hi : lo) & bit) !== 0 ? 1 : 0;
    c.setSomeFlags(CF, cf);
    if (i.sub === 0) return;
    let w = inHi ? hi : lo;
    w = i.sub === 1 ? w | bit : i.sub === 2 ? w & ~bit : w ^ bit;
    if (inHi) hi = w; else lo = w;
    c.setReg(i.rm, s, lo, hi);
    return;
  }
  // Memory form: a register offset addresses a bit string (signed, unbounded); an immediate is taken modulo the size.
  const off = i.sub2 ? i.imm & (s * 8 - 1) : s === 8 ? c.getS(i.reg) : s === 4 ? c.r[2 * i.reg] : (c.r[2 * i.reg] << 16) >> 16;
  const a = c.ea(i) + Math.floor(off / 8);
  const bit = 1 << (((off % 8) + 8) % 8);
  const v = c.mem.read8(a);
  if (i.sub !== 0) c.mem.write8(a, i.sub === 1 ? v | bit : i.sub === 2 ? v & ~bit : v ^ bit);
  c.setSomeFlags(CF, (v & bit) !== 0 ? 1 : 0);
}

/** bsf / bsr (i.sub 0 = bsf, 1 = bsr): zero source sets ZF and leaves the destination unchanged. */
export function bitScan(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const lo = c.readRM(i, s), hi = s === 8 ? c.hi : 0;
  const v = s === 2 ? lo & 0xffff : lo;
  if ((v | hi) === 0) {
    c.setSomeFlags(ZF, ZF);
    return;
  }
  let idx: number;
  if (i.sub === 0) idx = v !== 0 ? ctz32(v) : 32 + ctz32(hi);
  else idx = hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(v);
  c.setReg(i.reg, s, idx, 0);
  c.setSomeFlags(ZF, 0);
}

/** tzcnt / lzcnt (i.sub 0 = tzcnt, 1 = lzcnt): CF = source was zero, ZF = result is zero. */
export function countZeros(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const lo = c.readRM(i, s), hi = s === 8 ? c.hi : 0;
  const bits = s * 8;
  const v = s === 2 ? lo & 0xffff : lo;
  let n: number;
  if ((v | hi) === 0) n = bits;
  else if (i.sub === 0) n = v !== 0 ? ctz32(v) : 32 + ctz32(hi);
  else if (s === 8) n = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(v);
  else n = Math.clz32(v) - (32 - bits);
  c.setReg(i.reg, s, n, 0);
  c.setSomeFlags(CF | ZF, (n === bits ? CF : 0) | (n === 0 ? ZF : 0));
}

/** popcnt: ZF = source zero; OF SF AF CF PF cleared. */
export function popcnt(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const lo = c.readRM(i, s), hi = s === 8 ? c.hi : 0;
  const n = popcnt32(s === 2 ? lo & 0xffff : lo) + popcnt32(hi);
  c.setReg(i.reg, s, n, 0);
  c.setSomeFlags(CF | PF | AF | ZF | SF | OF, n === 0 ? ZF : 0);
}

/** cmpxchg r/m, reg */
export function cmpxchg(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const ad = i.isMem ? c.ea(i) : 0;
  const d = i.isMem ? c.readMem(ad, s) : c.getReg(i.rm, s), dh = c.hi;
  const a = c.getReg(RAX, s), ah = c.hi;
  if (i.isMem) c.writeMem(ad, s, d, dh); // the processor always writes the destination; a fault changes nothing
  alu(c, Alu.Cmp, s, a, ah, d, dh);
  if (c.getZF()) {
    const v = c.getReg(i.reg, s), vh = c.hi;
    if (i.isMem) c.writeMem(ad, s, v, vh); else c.setReg(i.rm, s, v, vh);
  } else {
    if (i.isMem) c.writeMem(ad, s, d, dh); // the processor always writes the destination
    c.setReg(RAX, s, d, dh);
  }
}

/** xadd r/m, reg */
export function xadd(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const ad = i.isMem ? c.ea(i) : 0;
  const d = i.isMem ? c.readMem(ad, s) : c.getReg(i.rm, s), dh = c.hi;
  const v = c.getReg(i.reg, s), vh = c.hi;
  if (i.isMem) c.writeMem(ad, s, d, dh); // a faulting write must change nothing
  const r = alu(c, Alu.Add, s, d, dh, v, vh), rh = c.hi;
  c.setReg(i.reg, s, d, dh);
  if (i.isMem) c.writeMem(ad, s, r, rh); else c.setReg(i.rm, s, r, rh);
}

/** cmpxchg8b / cmpxchg16b m (REX.W selects 16b, which requires 16-byte alignment). */
export function cmpxchgWide(c: Cpu, i: Instr): void {
  const ad = c.ea(i);
  const m = c.mem;
  if (i.rexW) {
    if (ad % 16 !== 0) throw new GuestFault(0, 'protection', 'write');
    const l0 = m.read64(ad), l1 = m.hi, h0 = m.read64(ad + 8), h1 = m.hi;
    const r = c.r;
    if (l0 === r[2 * RAX] && l1 === r[2 * RAX + 1] && h0 === r[2 * RDX] && h1 === r[2 * RDX + 1]) {
      m.write64(ad + 8, r[2 * RCX], r[2 * RCX + 1]);
      m.write64(ad, r[2 * RBX], r[2 * RBX + 1]);
      c.setSomeFlags(ZF, ZF);
    } else {
      m.write64(ad, l0, l1);
      c.set64(RAX, l0, l1);
      c.set64(RDX, h0, h1);
      c.setSomeFlags(ZF, 0);
    }
    return;
  }
  const lo = m.read32(ad), hi = m.read32(ad + 4);
  if (lo === c.r[2 * RAX] && hi === c.r[2 * RDX]) {
    m.write64(ad, c.r[2 * RBX], c.r[2 * RCX]);
    c.setSomeFlags(ZF, ZF);
  } else {
    m.write64(ad, lo, hi);
    c.set32(RAX, lo);
    c.set32(RDX, hi);
    c.setSomeFlags(ZF, 0);
  }
}

/** lahf: AH ← SF:ZF:0:AF:0:PF:1:CF */
export function lahf(c: Cpu, _i: Instr): void {
  c.set8(16, (c.getEflags() & 0xd5) | 2);
}
/** sahf: SF ZF AF PF CF ← AH */
export function sahf(c: Cpu, _i: Instr): void {
  c.setSomeFlags(SF | ZF | AF | PF | CF, c.get8(16));
}
/** clc/stc/cmc/cld/std (i.sub: 0 clc, 1 stc, 2 cmc, 3 cld, 4 std) */
export function flagOp(c: Cpu, i: Instr): void {
  switch (i.sub) {
    case 0: c.setSomeFlags(CF, 0); break;
    case 1: c.setSomeFlags(CF, CF); break;
    case 2: c.setSomeFlags(CF, c.getCF() ^ 1); break;
    case 3: c.fother &= ~(1 << 10); break;
    default: c.fother |= 1 << 10;
  }
}

export { FlagOp };
