/**
 * Data moves between xmm registers, memory and general registers: full
 * 128-bit moves, scalar and half moves with their merge/zero rules, movd/movq,
 * insert/extract, mask extraction, non-temporal and masked stores.
 */
import type { Cpu } from '../cpu.js';
import { RDI } from '../cpu.js';
import type { ExecFn, Instr } from '../instr.js';
import { S, alignedEa, read128, write128 } from './scratch.js';

function copyXmm(c: Cpu, from: number, to: number): void {
  const x = c.xmm, s = from << 2, d = to << 2;
  x[d] = x[s]; x[d + 1] = x[s + 1]; x[d + 2] = x[s + 2]; x[d + 3] = x[s + 3];
}

/** movaps/movapd/movdqa/movups/movupd/movdqu/lddqu/movntdqa xmm, xmm/m128. */
export function load128(i: Instr, aligned: boolean): ExecFn {
  if (!i.isMem) return (c, i) => copyXmm(c, i.rm, i.reg);
  return (c, i) => {
    read128(c, aligned ? alignedEa(c, i, 'read') : c.ea(i), 4);
    const x = c.xmm, d = i.reg << 2;
    x[d] = S[4]; x[d + 1] = S[5]; x[d + 2] = S[6]; x[d + 3] = S[7];
  };
}
/** movaps/movups/…/movntps xmm/m128, xmm. */
export function store128(i: Instr, aligned: boolean): ExecFn {
  if (!i.isMem) return (c, i) => copyXmm(c, i.reg, i.rm);
  return (c, i) => write128(c, aligned ? alignedEa(c, i, 'write') : c.ea(i), c.xmm, i.reg << 2);
}

/** movss xmm, xmm/m32: a register source merges the low dword; a memory source zeroes the rest. */
export function movssLoad(i: Instr): ExecFn {
  if (!i.isMem) return (c, i) => { c.xmm[i.reg << 2] = c.xmm[i.rm << 2]; };
  return (c, i) => {
    const v = c.mem.read32(c.ea(i)), x = c.xmm, d = i.reg << 2;
    x[d] = v; x[d + 1] = 0; x[d + 2] = 0; x[d + 3] = 0;
  };
}
export function movssStore(i: Instr): ExecFn {
  if (!i.isMem) return (c, i) => { c.xmm[i.rm << 2] = c.xmm[i.reg << 2]; };
  return (c, i) => c.mem.write32(c.ea(i), c.xmm[i.reg << 2]);
}
/** movsd xmm, xmm/m64 (and movq xmm, xmm/m64 zero-extends: see movqLoad). */
export function movsdLoad(i: Instr): ExecFn {
  if (!i.isMem) return (c, i) => { const x = c.xmm, s = i.rm << 2, d = i.reg << 2; x[d] = x[s]; x[d + 1] = x[s + 1]; };
  return (c, i) => {
    const m = c.mem, lo = m.read64(c.ea(i)), x = c.xmm, d = i.reg << 2;
    x[d] = lo; x[d + 1] = m.hi; x[d + 2] = 0; x[d + 3] = 0;
  };
}
/** movsd/movlps/movlpd/movq m64, xmm (low quadword); movsd xmm, xmm register form merges. */
export function storeLow64(i: Instr, regForm: 'merge' | 'zero' | null): ExecFn | null {
  if (!i.isMem) {
    if (regForm === null) return null;
    if (regForm === 'merge') return (c, i) => { const x = c.xmm, s = i.reg << 2, d = i.rm << 2; x[d] = x[s]; x[d + 1] = x[s + 1]; };
    return (c, i) => { const x = c.xmm, s = i.reg << 2, d = i.rm << 2; x[d] = x[s]; x[d + 1] = x[s + 1]; x[d + 2] = 0; x[d + 3] = 0; };
  }
  return (c, i) => { const x = c.xmm, s = i.reg << 2; c.mem.write64(c.ea(i), x[s], x[s + 1]); };
}
/** movhps/movhpd m64, xmm (high quadword). */
export function storeHigh64(i: Instr): ExecFn | null {
  if (!i.isMem) return null;
  return (c, i) => { const x = c.xmm, s = i.reg << 2; c.mem.write64(c.ea(i), x[s + 2], x[s + 3]); };
}
/** movlps/movlpd xmm, m64 (low ← m64), or movhlps xmm, xmm (low ← source high) when allowed. */
export function loadLow64(i: Instr, hlps: boolean): ExecFn | null {
  if (!i.isMem) {
    if (!hlps) return null;
    return (c, i) => { const x = c.xmm, s = i.rm << 2, d = i.reg << 2; x[d] = x[s + 2]; x[d + 1] = x[s + 3]; };
  }
  return (c, i) => { const m = c.mem, lo = m.read64(c.ea(i)), x = c.xmm, d = i.reg << 2; x[d] = lo; x[d + 1] = m.hi; };
}
/** movhps/movhpd xmm, m64 (high ← m64), or movlhps xmm, xmm (high ← source low). */
export function loadHigh64(i: Instr, lhps: boolean): ExecFn | null {
  if (!i.isMem) {
    if (!lhps) return null;
    return (c, i) => { const x = c.xmm, s = i.rm << 2, d = i.reg << 2; x[d + 2] = x[s]; x[d + 3] = x[s + 1]; };
  }
  return (c, i) => { const m = c.mem, lo = m.read64(c.ea(i)), x = c.xmm, d = i.reg << 2; x[d + 2] = lo; x[d + 3] = m.hi; };
}
/** movq xmm, xmm/m64 (F3 0F 7E): low quadword, upper zeroed. */
export function movqLoad(i: Instr): ExecFn {
  if (!i.isMem) return (c, i) => { const x = c.xmm, s = i.rm << 2, d = i.reg << 2; x[d] = x[s]; x[d + 1] = x[s + 1]; x[d + 2] = 0; x[d + 3] = 0; };
  return movsdLoad(i);
}

/** movd/movq xmm, r/m32|r/m64 (66 0F 6E): zero-extends into the register. */
export function movdToXmm(i: Instr): ExecFn {
  const size = i.rexW ? 8 : 4;
  return (c, i) => {
    const lo = c.readRM(i, size), x = c.xmm, d = i.reg << 2;
    x[d] = lo; x[d + 1] = size === 8 ? c.hi : 0; x[d + 2] = 0; x[d + 3] = 0;
  };
}
/** movd/movq r/m32|r/m64, xmm (66 0F 7E). */
export function movdFromXmm(i: Instr): ExecFn {
  const size = i.rexW ? 8 : 4;
  return (c, i) => { const x = c.xmm, s = i.reg << 2; c.writeRM(i, size, x[s], x[s + 1]); };
}

/** movmskps/movmskpd r32, xmm: sign bits. */
export function movmskps(i: Instr): ExecFn | null {
  if (i.isMem) return null;
  return (c, i) => {
    const x = c.xmm, s = i.rm << 2;
    c.setReg(i.reg, 4, (x[s] >>> 31) | ((x[s + 1] >>> 31) << 1) | ((x[s + 2] >>> 31) << 2) | ((x[s + 3] >>> 31) << 3), 0);
  };
}
export function movmskpd(i: Instr): ExecFn | null {
  if (i.isMem) return null;
  return (c, i) => { const x = c.xmm, s = i.rm << 2; c.setReg(i.reg, 4, (x[s + 1] >>> 31) | ((x[s + 3] >>> 31) << 1), 0); };
}
/** pmovmskb r32, xmm: the top bit of each byte. */
export function pmovmskb(i: Instr): ExecFn | null {
  if (i.isMem) return null;
  return (c, i) => {
    const x = c.xmm, s = i.rm << 2;
    let m = 0;
    for (let k = 3; k >= 0; k--) {
      const v = x[s + k];
      m = (m << 4) | ((v >>> 7) & 1) | ((v >>> 14) & 2) | ((v >>> 21) & 4) | ((v >>> 28) & 8);
    }
    c.setReg(i.reg, 4, m, 0);
  };
}

// ------------------------------------------------------------------ insert / extract

/** pextrw r32, xmm, imm8 (66 0F C5): register forms only. */
export function pextrwC5(i: Instr): ExecFn | null {
  if (i.isMem) return null;
  return (c, i) => c.setReg(i.reg, 4, c.xmmU16[(i.rm << 3) + (i.imm & 7)], 0);
}
/** pinsrw xmm, r32/m16, imm8 (66 0F C4). */
export function pinsrw(i: Instr): ExecFn {
  return (c, i) => { c.xmmU16[(i.reg << 3) + (i.imm & 7)] = c.readRM(i, 2); };
}
/** pextrb/pextrw/pextrd/pextrq/extractps r/m, xmm, imm8 (66 0F 3A 14..17): a register destination is zero-extended. */
export function pextr(i: Instr, size: 1 | 2 | 4 | 8): ExecFn {
  switch (size) {
    case 1: return (c, i) => { const v = c.xmmU8[(i.reg << 4) + (i.imm & 15)]; if (i.isMem) c.mem.write8(c.ea(i), v); else c.setReg(i.rm, 4, v, 0); };
    case 2: return (c, i) => { const v = c.xmmU16[(i.reg << 3) + (i.imm & 7)]; if (i.isMem) c.mem.write16(c.ea(i), v); else c.setReg(i.rm, 4, v, 0); };
    case 4: return (c, i) => c.writeRM(i, 4, c.xmm[(i.reg << 2) + (i.imm & 3)], 0);
    default: return (c, i) => { const s = (i.reg << 2) + ((i.imm & 1) << 1); c.writeRM(i, 8, c.xmm[s], c.xmm[s + 1]); };
  }
}
/** pinsrb/pinsrd/pinsrq xmm, r/m, imm8 (66 0F 3A 20/22). */
export function pinsr(i: Instr, size: 1 | 4 | 8): ExecFn {
  switch (size) {
    case 1: return (c, i) => { c.xmmU8[(i.reg << 4) + (i.imm & 15)] = c.readRM(i, 1); };
    case 4: return (c, i) => { c.xmm[(i.reg << 2) + (i.imm & 3)] = c.readRM(i, 4); };
    default: return (c, i) => { const lo = c.readRM(i, 8), d = (i.reg << 2) + ((i.imm & 1) << 1); c.xmm[d] = lo; c.xmm[d + 1] = c.hi; };
  }
}

/** maskmovdqu xmm, xmm: store the bytes of reg whose mask byte (rm) has its top bit set, at [rdi]. */
export function maskmovdqu(i: Instr): ExecFn | null {
  if (i.isMem) return null;
  return (c, i) => {
    let a = c.getS(RDI);
    if (i.adsize === 4) a = a >>> 0;
    if (i.seg !== 0) a += i.seg === 4 ? c.fsBase : c.gsBase;
    const u = c.xmmU8, s = i.reg << 4, m = i.rm << 4;
    for (let k = 0; k < 16; k++) if (u[m + k] & 0x80) c.mem.write8(a + k, u[s + k]);
  };
}
