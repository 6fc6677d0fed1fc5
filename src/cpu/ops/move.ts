import { Cpu, RAX, RBX, RDX, RSP, RBP } from '../cpu.js';
import { SEG_FS, SEG_GS, type Instr } from '../instr.js';

const TWO32 = 4294967296;

/** mov r/m, reg */
export function movRmReg(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const v = c.getReg(i.reg, s);
  if (i.isMem) c.writeMem(c.ea(i), s, v, c.hi);
  else c.setReg(i.rm, s, v, c.hi);
}
/** mov reg, r/m */
export function movRegRm(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const v = c.readRM(i, s);
  c.setReg(i.reg, s, v, c.hi);
}
// Hot specialisations.
export function mov64RegReg(c: Cpu, i: Instr): void {
  const r = c.r, d = 2 * i.rm, s = 2 * i.reg;
  r[d] = r[s]; r[d + 1] = r[s + 1];
}
export function mov64RegMem(c: Cpu, i: Instr): void {
  const m = c.mem;
  const lo = m.read64(c.ea(i));
  c.r[2 * i.reg] = lo; c.r[2 * i.reg + 1] = m.hi;
}
export function mov64MemReg(c: Cpu, i: Instr): void {
  c.mem.write64(c.ea(i), c.r[2 * i.reg], c.r[2 * i.reg + 1]);
}
export function mov32RegMem(c: Cpu, i: Instr): void {
  c.r[2 * i.reg] = c.mem.read32(c.ea(i)); c.r[2 * i.reg + 1] = 0;
}
export function mov32MemReg(c: Cpu, i: Instr): void {
  c.mem.write32(c.ea(i), c.r[2 * i.reg]);
}
/** mov r/m, imm (C6/C7; sign-extended imm32 for 64-bit) */
export function movRmImm(c: Cpu, i: Instr): void {
  c.writeRM(i, i.opsize, i.imm, i.imm >> 31);
}
/** mov reg, imm (B0-BF; movabs with immHi) */
export function movRegImm(c: Cpu, i: Instr): void {
  c.setReg(i.rm, i.opsize, i.imm, i.immHi);
}
/** mov moffs forms (A0-A3): address in i.disp; i.sub 0 = load, 1 = store. */
export function movMoffs(c: Cpu, i: Instr): void {
  const a = c.ea(i);
  if (i.sub === 0) {
    const v = c.readMem(a, i.opsize);
    c.setReg(RAX, i.opsize, v, c.hi);
  } else {
    const v = c.getReg(RAX, i.opsize);
    c.writeMem(a, i.opsize, v, c.hi);
  }
}

/** lea reg, m: 32/16-bit results are exact in int32 arithmetic; 64-bit ones use lea64. */
export function lea(c: Cpu, i: Instr): void {
  if (i.opsize === 8 && i.adsize === 8) return lea64(c, i);
  let v = i.disp | 0;
  if (i.base >= 0) v = (v + c.r[2 * i.base]) | 0;
  if (i.index >= 0) v = (v + (c.r[2 * i.index] << i.scale)) | 0;
  if (i.opsize === 2) c.set16(i.reg, v);
  else c.set32(i.reg, v);
}
/** lea with full 64-bit wraparound on halves (used when the result may exceed 53 bits). */
export function lea64(c: Cpu, i: Instr): void {
  let lo = i.disp | 0;
  let hi = Math.floor(i.disp / TWO32) | 0;
  if (i.base >= 0) {
    const bl = c.r[2 * i.base], bh = c.r[2 * i.base + 1];
    const s = (lo >>> 0) + (bl >>> 0);
    lo = s | 0;
    hi = (hi + bh + (s > 0xffffffff ? 1 : 0)) | 0;
  }
  if (i.index >= 0) {
    let xl = c.r[2 * i.index], xh = c.r[2 * i.index + 1];
    const k = i.scale;
    if (k) { xh = (xh << k) | (xl >>> (32 - k)); xl = xl << k; }
    const s = (lo >>> 0) + (xl >>> 0);
    lo = s | 0;
    hi = (hi + xh + (s > 0xffffffff ? 1 : 0)) | 0;
  }
  if (i.opsize === 8) c.set64(i.reg, lo, hi);
  else if (i.opsize === 4) c.set32(i.reg, lo);
  else c.set16(i.reg, lo);
}

/** movzx reg, r/m8|16 (i.sub = source size) */
export function movzx(c: Cpu, i: Instr): void {
  const v = c.readRM(i, i.sub);
  c.setReg(i.reg, i.opsize, v, 0);
}
/** movsx reg, r/m8|16 and movsxd reg, r/m32 (i.sub = source size) */
export function movsx(c: Cpu, i: Instr): void {
  let v = c.readRM(i, i.sub);
  if (i.sub === 1) v = (v << 24) >> 24;
  else if (i.sub === 2) v = (v << 16) >> 16;
  c.setReg(i.reg, i.opsize, v, v >> 31);
}

/** xchg r/m, reg (always locked on memory; atomicity is moot in one JS thread) */
export function xchg(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const b = c.getReg(i.reg, s), bh = c.hi;
  if (i.isMem) {
    const ad = c.ea(i);
    const a = c.readMem(ad, s), ah = c.hi;
    c.writeMem(ad, s, b, bh);
    c.setReg(i.reg, s, a, ah);
  } else {
    const a = c.getReg(i.rm, s), ah = c.hi;
    c.setReg(i.rm, s, b, bh);
    c.setReg(i.reg, s, a, ah);
  }
}

/** cmovcc reg, r/m (i.sub = cc). The source is read even when false (a fault still happens), and 32-bit always zero-extends. */
export function cmov(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const v = c.readRM(i, s), vh = c.hi;
  if (c.cond(i.sub)) c.setReg(i.reg, s, v, vh);
  else if (s === 4) c.r[2 * i.reg + 1] = 0;
}
/** setcc r/m8 */
export function setcc(c: Cpu, i: Instr): void {
  c.writeRM(i, 1, c.cond(i.sub) ? 1 : 0, 0);
}

/** bswap reg */
export function bswap(c: Cpu, i: Instr): void {
  const n = i.rm;
  const sw = (v: number) => ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
  if (i.opsize === 8) c.set64(n, sw(c.r[2 * n + 1]), sw(c.r[2 * n]));
  else if (i.opsize === 4) c.set32(n, sw(c.r[2 * n]));
  else c.set16(n, 0); // 16-bit bswap is undefined; current CPUs give 0
}
/** movbe reg, m / movbe m, reg (i.sub 0 = load, 1 = store) */
export function movbe(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const sw = (v: number) => ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
  const a = c.ea(i);
  if (i.sub === 0) {
    const v = c.readMem(a, s), vh = c.hi;
    if (s === 8) c.set64(i.reg, sw(vh), sw(v));
    else if (s === 4) c.set32(i.reg, sw(v));
    else c.set16(i.reg, ((v & 0xff) << 8) | ((v >> 8) & 0xff));
  } else {
    const v = c.getReg(i.reg, s), vh = c.hi;
    if (s === 8) c.writeMem(a, 8, sw(vh), sw(v));
    else if (s === 4) c.writeMem(a, 4, sw(v), 0);
    else c.writeMem(a, 2, ((v & 0xff) << 8) | ((v >> 8) & 0xff), 0);
  }
}

/** xlat (D7): al ← [rbx + al] (ebx + al with 0x67; a segment override applies). */
export function xlat(c: Cpu, i: Instr): void {
  const al = c.r[2 * RAX] & 0xff;
  let a = i.adsize === 4 ? ((c.r[2 * RBX] >>> 0) + al) >>> 0 : c.getS(RBX) + al;
  if (i.seg === SEG_FS) a += c.fsBase;
  else if (i.seg === SEG_GS) a += c.gsBase;
  c.set8(RAX, c.mem.read8(a));
}

/** cbw/cwde/cdqe (98) */
export function cbwFamily(c: Cpu, i: Instr): void {
  const v = c.r[0];
  if (i.opsize === 8) c.set64(RAX, v, v >> 31);
  else if (i.opsize === 4) c.set32(RAX, (v << 16) >> 16);
  else c.set16(RAX, (v << 24) >> 24);
}
/** cwd/cdq/cqo (99) */
export function cwdFamily(c: Cpu, i: Instr): void {
  if (i.opsize === 8) { const s = c.r[1] >> 31; c.set64(RDX, s, s); }
  else if (i.opsize === 4) c.set32(RDX, c.r[0] >> 31);
  else c.set16(RDX, (c.r[0] << 16) >> 31);
}

// ------------------------------------------------------------ stack

/** push reg (50-57) */
export function pushReg(c: Cpu, i: Instr): void {
  if (i.opsize === 2) return push16(c, c.r[2 * i.rm]);
  c.push64(c.r[2 * i.rm], c.r[2 * i.rm + 1]);
}
/** pop reg (58-5F) */
export function popReg(c: Cpu, i: Instr): void {
  if (i.opsize === 2) return c.set16(i.rm, pop16(c));
  const lo = c.pop64();
  c.set64(i.rm, lo, c.hi);
}
/** push imm (68/6A) */
export function pushImm(c: Cpu, i: Instr): void {
  if (i.opsize === 2) return push16(c, i.imm);
  c.push64(i.imm, i.imm >> 31);
}
/** push r/m (FF /6) */
export function pushRm(c: Cpu, i: Instr): void {
  if (i.opsize === 2) return push16(c, c.readRM(i, 2));
  const lo = c.readRM(i, 8);
  c.push64(lo, c.hi);
}
/** pop r/m (8F /0): the address is computed after rsp is incremented, as on hardware. */
export function popRm(c: Cpu, i: Instr): void {
  if (i.opsize === 2) {
    const v = pop16(c);
    c.writeRM(i, 2, v, 0);
    return;
  }
  const sp = c.rsp;
  const lo = c.mem.read64(sp), hi = c.mem.hi;
  c.setS(RSP, sp + 8);
  try {
    c.writeRM(i, 8, lo, hi);
  } catch (e) {
    c.setS(RSP, sp);
    throw e;
  }
}
function push16(c: Cpu, v: number): void {
  const sp = c.rsp - 2;
  c.mem.write16(sp, v);
  c.setS(RSP, sp);
}
function pop16(c: Cpu): number {
  const sp = c.rsp;
  const v = c.mem.read16(sp);
  c.setS(RSP, sp + 2);
  return v;
}
/** pushf */
export function pushf(c: Cpu, i: Instr): void {
  const f = c.getEflags() & 0x00fcffff; // VM and RF read as 0
  if (i.opsize === 2) push16(c, f);
  else c.push64(f, 0);
}
/** popf: only the user-changeable flags */
export function popf(c: Cpu, i: Instr): void {
  const v = i.opsize === 2 ? pop16(c) | (c.getEflags() & ~0xffff) : c.pop64();
  const keep = c.getEflags() & ~0x254dd5;
  c.setEflags((v & 0x254dd5) | keep);
}
/** leave */
export function leave(c: Cpu, _i: Instr): void {
  const bp = c.getS(RBP);
  const lo = c.mem.read64(bp), hi = c.mem.hi;
  c.setS(RSP, bp + 8);
  c.set64(RBP, lo, hi);
}
/** leave with 66: rsp ← rbp, then a 16-bit pop into bp (the upper bits of rbp stay). */
export function leave16(c: Cpu, _i: Instr): void {
  const bp = c.getS(RBP);
  const v = c.mem.read16(bp);
  c.setS(RSP, bp + 2);
  c.set16(RBP, v);
}
/** enter imm16, imm8 (i.imm = frame size, i.immHi = nesting level) */
export function enter(c: Cpu, i: Instr): void {
  const level = i.immHi & 31;
  c.push64(c.r[2 * RBP], c.r[2 * RBP + 1]);
  const frame = c.rsp;
  let bp = c.getS(RBP);
  for (let k = 1; k < level; k++) {
    bp -= 8;
    const lo = c.mem.read64(bp);
    c.push64(lo, c.mem.hi);
  }
  if (level > 0) c.push64(frame, Math.floor(frame / TWO32));
  c.setS(RBP, frame);
  c.setS(RSP, c.rsp - i.imm);
}
