import type { AddressSpace } from '../mem/address-space.js';
import { Instr, REP_F2, REP_F3, SEG_FS, SEG_GS, type ExecFn } from './instr.js';
import * as A from './ops/alu.js';
import * as M from './ops/move.js';
import * as C from './ops/control.js';
import * as S from './ops/string.js';
import * as B from './ops/bits.js';
import * as Y from './ops/system.js';
import { shiftRm, shiftDouble } from './ops/shift.js';
import { decodeSse } from './sse/index.js';
import { decodeX87, decodeFxsaveGroup } from './x87/index.js';
import { decodeVex } from './vex/index.js';

/** What a table entry does with the decoder positioned after the opcode byte. Returns null for an undefined encoding. */
type DecodeFn = (d: Decoder, i: Instr, op: number) => ExecFn | null;

/**
 * x86-64 instruction decoder. Decodes one instruction at a time into an
 * Instr (operands resolved, exec function chosen); the engine caches the
 * results per basic block, so this runs once per instruction address.
 */
export class Decoder {
  private pos = 0;
  /** Set by table entries for instructions that transfer control (the block ends after them). */
  endsBlock = false;
  private ripRel = false;
  private rexR = 0;
  private rexX = 0;
  /** REX.B as 0 or 8 (extends opcode-embedded register numbers). */
  rexB = 0;
  /** The last of 66/F2/F3 seen, for SSE mandatory prefixes (F2/F3 win over 66). */
  private mandatory = 0;

  constructor(private readonly mem: AddressSpace) {}

  u8(): number {
    return this.mem.fetch8(this.pos++);
  }
  s8(): number {
    return (this.u8() << 24) >> 24;
  }
  u16(): number {
    const lo = this.u8();
    return lo | (this.u8() << 8);
  }
  s32(): number {
    const b0 = this.u8(), b1 = this.u8(), b2 = this.u8(), b3 = this.u8();
    return b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
  }
  /** Immediate of the operand size: imm8, imm16, or imm32 (sign-extended for 64-bit operands). */
  imm(i: Instr): number {
    return i.opsize === 1 ? this.u8() : i.opsize === 2 ? this.u16() : this.s32();
  }

  /** Decodes ModRM (+SIB, displacement) into i. */
  modrm(i: Instr): void {
    const m = this.u8();
    const mod = m >> 6, rm = m & 7;
    i.mod = mod;
    i.reg = ((m >> 3) & 7) | this.rexR;
    if (mod === 3) {
      i.rm = rm | this.rexB;
      i.isMem = false;
      return;
    }
    i.isMem = true;
    i.rm = -1;
    if (rm === 4) {
      const sib = this.u8();
      const base = sib & 7;
      const index = ((sib >> 3) & 7) | this.rexX;
      i.scale = sib >> 6;
      i.index = index === 4 ? -1 : index;
      if (base === 5 && mod === 0) {
        i.base = -1;
        i.disp = this.s32();
      } else i.base = base | this.rexB;
    } else if (rm === 5 && mod === 0) {
      i.base = -1;
      i.disp = this.s32();
      this.ripRel = true;
    } else i.base = rm | this.rexB;
    if (mod === 1) i.disp = this.s8();
    else if (mod === 2) i.disp = this.s32();
  }

  /** Byte-register operands without REX name ah/ch/dh/bh for encodings 4-7. */
  fix8(i: Instr): void {
    if (i.rex) return;
    if (i.reg >= 4 && i.reg <= 7) i.reg += 12;
    if (!i.isMem && i.rm >= 4 && i.rm <= 7) i.rm += 12;
  }

  /** Decodes the instruction at addr into a fresh Instr. Throws GuestFault if the first byte cannot be fetched. */
  decode(addr: number): Instr {
    const i = new Instr();
    i.addr = addr;
    this.pos = addr;
    this.endsBlock = false;
    this.ripRel = false;
    this.rexR = this.rexX = this.rexB = 0;
    this.mandatory = 0;
    let op = this.u8();
    // Legacy prefixes, then REX (which must come last).
    for (let n = 0; n < 14; n++) {
      if (op === 0x66) { i.p66 = true; if (!this.mandatory || this.mandatory === 0x66) this.mandatory = 0x66; }
      else if (op === 0x67) i.adsize = 4;
      else if (op === 0xf3) { i.rep = REP_F3; this.mandatory = 0xf3; }
      else if (op === 0xf2) { i.rep = REP_F2; this.mandatory = 0xf2; }
      else if (op === 0xf0) i.lock = true;
      else if (op === 0x64) i.seg = SEG_FS;
      else if (op === 0x65) i.seg = SEG_GS;
      else if (op === 0x2e || op === 0x36 || op === 0x3e || op === 0x26) { /* null segments in 64-bit mode */ }
      else break;
      op = this.u8();
    }
    if ((op & 0xf0) === 0x40) {
      i.rex = true;
      i.rexW = (op & 8) !== 0;
      this.rexR = (op & 4) << 1;
      this.rexX = (op & 2) << 2;
      this.rexB = (op & 1) << 3;
      op = this.u8();
    }
    i.opsize = i.rexW ? 8 : i.p66 ? 2 : 4;
    let fn: ExecFn | null;
    if ((op === 0xc4 || op === 0xc5) && !i.rex) {
      fn = this.vex(i, op);
    } else if (op === 0x0f) {
      const op2 = this.u8();
      if (op2 === 0x38 || op2 === 0x3a) {
        i.map = op2 === 0x38 ? 0x0f38 : 0x0f3a;
        i.op = this.u8();
        fn = this.threeByte(i);
      } else {
        i.map = 0x0f;
        i.op = op2;
        const e = TWO_BYTE[op2];
        fn = e ? e(this, i, op2) : null;
      }
    } else {
      i.op = op;
      const e = ONE_BYTE[op];
      fn = e ? e(this, i, op) : null;
    }
    i.len = this.pos - addr;
    i.next = addr + i.len;
    if (this.ripRel) i.disp += i.next;
    if (i.lock && fn !== null && !lockable(i)) fn = null; // LOCK on anything else is #UD
    if (fn === null || i.len > 15) {
      fn = C.illegal;
      this.endsBlock = true;
    }
    i.exec = fn;
    return i;
  }

  /**
   * VEX-encoded instructions (C4/C5 prefixes; in 64-bit mode they are always
   * VEX). The prefix's inverted R/X/B, vvvv, L, W and pp are decoded here; the
   * vex module (BMI1/BMI2 and friends) chooses the operation.
   */
  private vex(i: Instr, first: number): ExecFn | null {
    const b1 = this.u8();
    let map = 0x0f, w = false, pp: number, b2: number;
    if (first === 0xc5) {
      this.rexR = (~b1 & 0x80) >> 4;
      b2 = b1;
    } else {
      this.rexR = (~b1 & 0x80) >> 4;
      this.rexX = (~b1 & 0x40) >> 3;
      this.rexB = (~b1 & 0x20) >> 2;
      const mm = b1 & 0x1f;
      map = mm === 1 ? 0x0f : mm === 2 ? 0x0f38 : mm === 3 ? 0x0f3a : -1;
      b2 = this.u8();
      w = (b2 & 0x80) !== 0;
    }
    i.vex = true;
    i.vvvv = (~b2 >> 3) & 15;
    i.vexL = (b2 >> 2) & 1;
    pp = b2 & 3;
    i.rexW = w;
    i.rex = true; // VEX implies REX-style byte registers
    i.opsize = w ? 8 : 4;
    if (map < 0) return null;
    i.map = map;
    i.op = this.u8();
    this.modrm(i);
    if (map === 0x0f3a) i.imm = this.u8();
    return decodeVex(i, [0, 0x66, 0xf3, 0xf2][pp]);
  }

  private threeByte(i: Instr): ExecFn | null {
    this.modrm(i);
    if (i.map === 0x0f38 && i.op === 0xf6 && (this.mandatory === 0x66 || this.mandatory === 0xf3)) {
      return decodeVex(i, this.mandatory); // adcx / adox (legacy-encoded ADX)
    }
    if (i.map === 0x0f38 && (i.op === 0xf0 || i.op === 0xf1) && this.mandatory !== 0xf2) {
      // movbe (F3 0F 38 F0/F1 is #UD)
      if (!i.isMem || this.mandatory === 0xf3) return null;
      if (i.op === 0xf0) { i.sub = 0; } else { i.sub = 1; }
      return M.movbe;
    }
    if (i.map === 0x0f3a) i.imm = this.u8();
    return decodeSse(i, this.mandatory);
  }

  /** SSE-family two-byte opcode: ModRM, optional imm8, then the SSE module. */
  sse(i: Instr, hasImm: boolean): ExecFn | null {
    this.modrm(i);
    if (hasImm) i.imm = this.u8();
    return decodeSse(i, this.mandatory);
  }

  /** Absolute target of a relative branch whose displacement was just read (the instruction ends here). */
  relTarget(rel: number): number {
    return this.pos + rel;
  }

  /** For opcode-embedded register operands: no ModRM, register form. */
  modrmless(i: Instr): void {
    i.isMem = false;
  }

  /** movzx/movsx from a byte register: only the r/m operand is 8-bit. */
  fix8rm(i: Instr): void {
    if (!i.rex && !i.isMem && i.rm >= 4 && i.rm <= 7) i.rm += 12;
  }

  get mandatoryPrefix(): number {
    return this.mandatory;
  }
}

// ------------------------------------------------------------------ tables

/** LOCK is valid only on read-modify-write forms with a memory destination (Intel SDM, LOCK prefix). */
function lockable(i: Instr): boolean {
  if (!i.isMem || i.vex) return false;
  const r = i.reg & 7, op = i.op;
  if (i.map === 0) {
    if (op < 0x40 && (op & 7) <= 1) return (op >> 3) !== 7; // ALU r/m, reg except CMP
    if (op === 0x80 || op === 0x81 || op === 0x83) return r !== 7;
    if (op === 0x86 || op === 0x87) return true;
    if (op === 0xf6 || op === 0xf7) return r === 2 || r === 3;
    if (op === 0xfe || op === 0xff) return r <= 1;
    return false;
  }
  if (i.map === 0x0f) {
    if (op === 0xab || op === 0xb3 || op === 0xbb || op === 0xb0 || op === 0xb1 || op === 0xc0 || op === 0xc1) return true;
    if (op === 0xba) return r >= 5;
    if (op === 0xc7) return r === 1;
  }
  return false;
}

const ONE_BYTE: (DecodeFn | undefined)[] = new Array(256);
const TWO_BYTE: (DecodeFn | undefined)[] = new Array(256);

function def(table: (DecodeFn | undefined)[], from: number, to: number, fn: DecodeFn): void {
  for (let k = from; k <= to; k++) table[k] = fn;
}
const control = (d: Decoder, fn: ExecFn): ExecFn => {
  d.endsBlock = true;
  return fn;
};

// 00-3F: the eight ALU operations in six forms each.
for (let alu = 0; alu < 8; alu++) {
  const base = alu << 3;
  ONE_BYTE[base] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8(i); i.sub = alu; return A.aluRmReg; };
  ONE_BYTE[base + 1] = (d, i) => {
    d.modrm(i); i.sub = alu;
    if (!i.isMem && i.opsize === 8 && alu === A.Alu.Add) return A.add64RegReg;
    if (!i.isMem && i.opsize === 4 && alu === A.Alu.Cmp) return A.cmp32RegReg;
    if (!i.isMem && i.opsize === 4 && alu === A.Alu.Xor && i.rm === i.reg) return A.xor32Zero;
    return A.aluRmReg;
  };
  ONE_BYTE[base + 2] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8(i); i.sub = alu; return A.aluRegRm; };
  ONE_BYTE[base + 3] = (d, i) => { d.modrm(i); i.sub = alu; return A.aluRegRm; };
  ONE_BYTE[base + 4] = (d, i) => { i.opsize = 1; i.imm = d.u8(); i.rm = 0; i.sub = alu; return A.aluRmImm; };
  ONE_BYTE[base + 5] = (d, i) => { i.imm = d.imm(i); i.rm = 0; i.sub = alu; return A.aluRmImm; };
}


/** Default 64-bit operand size (push, pop, near branches): 66 selects 16 bits. */
const size64 = (i: Instr): void => { i.opsize = i.p66 && !i.rexW ? 2 : 8; };

def(ONE_BYTE, 0x50, 0x57, (d, i, op) => { i.rm = (op & 7) | d.rexB; size64(i); return M.pushReg; });
def(ONE_BYTE, 0x58, 0x5f, (d, i, op) => { i.rm = (op & 7) | d.rexB; size64(i); return M.popReg; });
ONE_BYTE[0x63] = (d, i) => {
  d.modrm(i);
  if (i.opsize === 8) { i.sub = 4; return M.movsx; }
  return M.movRegRm;
};
ONE_BYTE[0x68] = (d, i) => { size64(i); i.imm = i.opsize === 2 ? d.u16() : d.s32(); return M.pushImm; };
ONE_BYTE[0x6a] = (d, i) => { size64(i); i.imm = d.s8(); return M.pushImm; };
ONE_BYTE[0x69] = (d, i) => { d.modrm(i); i.imm = i.opsize === 2 ? (d.u16() << 16) >> 16 : d.s32(); i.sub = 1; return A.imulRegRm; };
ONE_BYTE[0x6b] = (d, i) => { d.modrm(i); i.imm = d.s8(); i.sub = 1; return A.imulRegRm; };
def(ONE_BYTE, 0x70, 0x7f, (d, i, op) => { const r = d.s8(); i.sub = op & 15; i.target = d.relTarget(r); return control(d, C.jcc); });
// Group 1: ALU with immediate.
ONE_BYTE[0x80] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8rm(i); i.sub = i.reg & 7; i.imm = d.u8(); return A.aluRmImm; };
ONE_BYTE[0x81] = (d, i) => { d.modrm(i); i.sub = i.reg & 7; i.imm = d.imm(i); return A.aluRmImm; };
ONE_BYTE[0x83] = (d, i) => {
  d.modrm(i); i.sub = i.reg & 7; i.imm = d.s8();
  if (i.opsize === 2) i.imm &= 0xffff;
  if (!i.isMem && i.opsize === 8 && i.sub === A.Alu.Cmp) return A.cmp64RegImm;
  return A.aluRmImm;
};
ONE_BYTE[0x84] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8(i); return A.testRmReg; };
ONE_BYTE[0x85] = (d, i) => { d.modrm(i); return A.testRmReg; };
ONE_BYTE[0x86] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8(i); return M.xchg; };
ONE_BYTE[0x87] = (d, i) => { d.modrm(i); return M.xchg; };
ONE_BYTE[0x88] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8(i); return M.movRmReg; };
ONE_BYTE[0x89] = (d, i) => {
  d.modrm(i);
  if (i.opsize === 8) return i.isMem ? M.mov64MemReg : M.mov64RegReg;
  if (i.opsize === 4 && i.isMem) return M.mov32MemReg;
  return M.movRmReg;
};
ONE_BYTE[0x8a] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8(i); return M.movRegRm; };
ONE_BYTE[0x8b] = (d, i) => {
  d.modrm(i);
  if (i.isMem && i.opsize === 8) return M.mov64RegMem;
  if (i.isMem && i.opsize === 4) return M.mov32RegMem;
  if (!i.isMem && i.opsize === 8) { const t = i.rm; i.rm = i.reg; i.reg = t; return M.mov64RegReg; }
  return M.movRegRm;
};
// mov r/m, Sreg: the Linux user selectors (cs 0x33, ss 0x2b, others 0).
ONE_BYTE[0x8c] = (d, i) => {
  d.modrm(i);
  if ((i.reg & 7) > 5) return null; // there are six segment registers
  const sel = [0, 0x33, 0x2b, 0, 0, 0][i.reg & 7];
  i.imm = sel;
  if (i.isMem) i.opsize = 2;
  return M.movRmImm;
};
ONE_BYTE[0x8d] = (d, i) => { d.modrm(i); return i.isMem ? M.lea : null; };
ONE_BYTE[0x8f] = (d, i) => { size64(i); d.modrm(i); return (i.reg & 7) === 0 ? M.popRm : null; };
ONE_BYTE[0x90] = (d, i) => {
  if (d.rexB) { i.rm = 8; i.reg = 0; d.modrmless(i); return M.xchg; }
  return Y.nop; // nop and pause
};
def(ONE_BYTE, 0x91, 0x97, (d, i, op) => { i.rm = (op & 7) | d.rexB; i.reg = 0; i.isMem = false; return M.xchg; });
ONE_BYTE[0x98] = () => M.cbwFamily;
ONE_BYTE[0x99] = () => M.cwdFamily;
ONE_BYTE[0x9b] = () => Y.nop; // fwait: no pending unmasked x87 exceptions are modelled
ONE_BYTE[0x9c] = (d, i) => { size64(i); return M.pushf; };
ONE_BYTE[0x9d] = (d, i) => { size64(i); return M.popf; };
ONE_BYTE[0x9e] = () => B.sahf;
ONE_BYTE[0x9f] = () => B.lahf;
def(ONE_BYTE, 0xa0, 0xa3, (d, i, op) => {
  if ((op & 1) === 0) i.opsize = 1;
  const lo = d.s32(), hi = d.s32();
  i.disp = hi * 4294967296 + (lo >>> 0);
  i.isMem = true;
  i.sub = op < 0xa2 ? 0 : 1;
  return M.movMoffs;
});
ONE_BYTE[0xa4] = (d, i) => { i.opsize = 1; return S.movs; };
ONE_BYTE[0xa5] = () => S.movs;
ONE_BYTE[0xa6] = (d, i) => { i.opsize = 1; return S.cmps; };
ONE_BYTE[0xa7] = () => S.cmps;
ONE_BYTE[0xa8] = (d, i) => { i.opsize = 1; i.imm = d.u8(); i.rm = 0; return A.testRmImm; };
ONE_BYTE[0xa9] = (d, i) => { i.imm = d.imm(i); i.rm = 0; return A.testRmImm; };
ONE_BYTE[0xaa] = (d, i) => { i.opsize = 1; return S.stos; };
ONE_BYTE[0xab] = () => S.stos;
ONE_BYTE[0xac] = (d, i) => { i.opsize = 1; return S.lods; };
ONE_BYTE[0xad] = () => S.lods;
ONE_BYTE[0xae] = (d, i) => { i.opsize = 1; return S.scas; };
ONE_BYTE[0xaf] = () => S.scas;
def(ONE_BYTE, 0xb0, 0xb7, (d, i, op) => { i.opsize = 1; i.rm = (op & 7) | d.rexB; if (!i.rex && i.rm >= 4 && i.rm <= 7) i.rm += 12; i.imm = d.u8(); return M.movRegImm; });
def(ONE_BYTE, 0xb8, 0xbf, (d, i, op) => {
  i.rm = (op & 7) | d.rexB;
  if (i.opsize === 8) { i.imm = d.s32(); i.immHi = d.s32(); }
  else { i.imm = d.imm(i); i.immHi = 0; }
  return M.movRegImm;
});
// Group 2: shifts and rotates.
ONE_BYTE[0xc0] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8rm(i); i.sub = i.reg & 7; i.imm = d.u8(); i.sub2 = 0; return shiftRm; };
ONE_BYTE[0xc1] = (d, i) => { d.modrm(i); i.sub = i.reg & 7; i.imm = d.u8(); i.sub2 = 0; return shiftRm; };
ONE_BYTE[0xd0] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8rm(i); i.sub = i.reg & 7; i.sub2 = 1; return shiftRm; };
ONE_BYTE[0xd1] = (d, i) => { d.modrm(i); i.sub = i.reg & 7; i.sub2 = 1; return shiftRm; };
ONE_BYTE[0xd2] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8rm(i); i.sub = i.reg & 7; i.sub2 = 2; return shiftRm; };
ONE_BYTE[0xd3] = (d, i) => { d.modrm(i); i.sub = i.reg & 7; i.sub2 = 2; return shiftRm; };
ONE_BYTE[0xc2] = (d, i) => { i.imm = d.u16(); return control(d, C.ret); };
ONE_BYTE[0xc3] = (d, i) => { i.imm = 0; return control(d, C.ret); };
ONE_BYTE[0xc6] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8rm(i); i.imm = d.u8(); return (i.reg & 7) === 0 ? M.movRmImm : null; };
ONE_BYTE[0xc7] = (d, i) => { d.modrm(i); i.imm = d.imm(i); return (i.reg & 7) === 0 ? M.movRmImm : null; };
ONE_BYTE[0xc8] = (d, i) => { i.imm = d.u16(); i.immHi = d.u8(); return M.enter; };
ONE_BYTE[0xc9] = (d, i) => (i.p66 && !i.rexW ? M.leave16 : M.leave);
ONE_BYTE[0xcc] = (d) => control(d, C.int3);
ONE_BYTE[0xcd] = (d, i) => { i.imm = d.u8(); return control(d, C.privileged); };
ONE_BYTE[0xd7] = () => M.xlat;
def(ONE_BYTE, 0xd8, 0xdf, (d, i) => { d.modrm(i); return decodeX87(i); });
ONE_BYTE[0xe0] = (d, i) => { const r = d.s8(); i.sub = 0; i.target = d.relTarget(r); return control(d, C.loop); };
ONE_BYTE[0xe1] = (d, i) => { const r = d.s8(); i.sub = 1; i.target = d.relTarget(r); return control(d, C.loop); };
ONE_BYTE[0xe2] = (d, i) => { const r = d.s8(); i.sub = 2; i.target = d.relTarget(r); return control(d, C.loop); };
ONE_BYTE[0xe3] = (d, i) => { const r = d.s8(); i.target = d.relTarget(r); return control(d, C.jrcxz); };
def(ONE_BYTE, 0xe4, 0xe7, (d) => { d.u8(); return control(d, C.privileged); });
def(ONE_BYTE, 0xec, 0xef, (d) => control(d, C.privileged));
ONE_BYTE[0xe8] = (d, i) => { const r = d.s32(); i.target = d.relTarget(r); return control(d, C.callRel); };
ONE_BYTE[0xe9] = (d, i) => { const r = d.s32(); i.target = d.relTarget(r); return control(d, C.jmpRel); };
ONE_BYTE[0xeb] = (d, i) => { const r = d.s8(); i.target = d.relTarget(r); return control(d, C.jmpRel); };
ONE_BYTE[0xf4] = (d) => control(d, C.privileged);
ONE_BYTE[0xf5] = (d, i) => { i.sub = 2; return B.flagOp; };
ONE_BYTE[0xf8] = (d, i) => { i.sub = 0; return B.flagOp; };
ONE_BYTE[0xf9] = (d, i) => { i.sub = 1; return B.flagOp; };
ONE_BYTE[0xfa] = (d) => control(d, C.privileged);
ONE_BYTE[0xfb] = (d) => control(d, C.privileged);
ONE_BYTE[0xfc] = (d, i) => { i.sub = 3; return B.flagOp; };
ONE_BYTE[0xfd] = (d, i) => { i.sub = 4; return B.flagOp; };
// Group 3.
const GROUP3: (ExecFn | null)[] = [A.testRmImm, A.testRmImm, A.notRm, A.negRm, A.mulRm, A.imul1Rm, A.divRm, A.idivRm];
ONE_BYTE[0xf6] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8rm(i); if ((i.reg & 7) < 2) i.imm = d.u8(); return GROUP3[i.reg & 7]; };
ONE_BYTE[0xf7] = (d, i) => { d.modrm(i); if ((i.reg & 7) < 2) i.imm = d.imm(i); return GROUP3[i.reg & 7]; };
// Groups 4 and 5.
ONE_BYTE[0xfe] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8rm(i); const r = i.reg & 7; if (r > 1) return null; i.sub = r; return A.incDec; };
ONE_BYTE[0xff] = (d, i) => {
  d.modrm(i);
  switch (i.reg & 7) {
    case 0: i.sub = 0; return A.incDec;
    case 1: i.sub = 1; return A.incDec;
    case 2: return control(d, C.callRm);
    case 4: return control(d, C.jmpRm);
    case 6: size64(i); return M.pushRm;
    default: return null;
  }
};

// ------------------------------------------------------------------ 0F xx

TWO_BYTE[0x05] = (d) => control(d, C.syscall);
TWO_BYTE[0x0b] = (d) => control(d, C.illegal);
TWO_BYTE[0x01] = (d, i) => {
  d.modrm(i);
  if (d.mandatoryPrefix) return null; // 66/F2/F3 0F 01: VMX/SGX/CET encodings, #UD here
  if (i.mod === 3 && (i.reg & 7) === 2 && (i.rm & 7) === 0) return control(d, Y.xgetbv); // 0F 01 D0; may stop (#GP): ends the block like every stopping instruction
  return control(d, C.privileged); // sgdt/sidt/lgdt/…/swapgs/rdtscp…: #GP in user mode (UMIP)
};
TWO_BYTE[0x0d] = (d, i) => { d.modrm(i); return i.isMem ? Y.nop : null; }; // prefetch/prefetchw: memory forms only
def(TWO_BYTE, 0x18, 0x1f, (d, i) => { d.modrm(i); return Y.nop; });
const sseNoImm: DecodeFn = (d, i) => d.sse(i, false);
const sseImm: DecodeFn = (d, i) => d.sse(i, true);
def(TWO_BYTE, 0x10, 0x17, sseNoImm);
def(TWO_BYTE, 0x28, 0x2f, sseNoImm);
def(TWO_BYTE, 0x50, 0x6f, sseNoImm);
def(TWO_BYTE, 0x70, 0x73, sseImm);
def(TWO_BYTE, 0x74, 0x7f, sseNoImm);
TWO_BYTE[0xc2] = sseImm;
def(TWO_BYTE, 0xc4, 0xc6, sseImm);
def(TWO_BYTE, 0xd0, 0xff, sseNoImm);
TWO_BYTE[0x31] = () => Y.rdtsc;
TWO_BYTE[0xa2] = () => Y.cpuid;
def(TWO_BYTE, 0x40, 0x4f, (d, i, op) => { d.modrm(i); i.sub = op & 15; return M.cmov; });
def(TWO_BYTE, 0x80, 0x8f, (d, i, op) => { const r = d.s32(); i.sub = op & 15; i.target = d.relTarget(r); return control(d, C.jcc); });
def(TWO_BYTE, 0x90, 0x9f, (d, i, op) => { i.opsize = 1; d.modrm(i); d.fix8(i); i.sub = op & 15; return M.setcc; });
TWO_BYTE[0xa3] = (d, i) => { d.modrm(i); i.sub = 0; i.sub2 = 0; return B.bitTest; };
TWO_BYTE[0xab] = (d, i) => { d.modrm(i); i.sub = 1; i.sub2 = 0; return B.bitTest; };
TWO_BYTE[0xb3] = (d, i) => { d.modrm(i); i.sub = 2; i.sub2 = 0; return B.bitTest; };
TWO_BYTE[0xbb] = (d, i) => { d.modrm(i); i.sub = 3; i.sub2 = 0; return B.bitTest; };
TWO_BYTE[0xba] = (d, i) => { d.modrm(i); i.imm = d.u8(); const r = i.reg & 7; if (r < 4) return null; i.sub = r - 4; i.sub2 = 1; return B.bitTest; };
TWO_BYTE[0xa4] = (d, i) => { d.modrm(i); i.imm = d.u8(); i.sub = 0; i.sub2 = 0; return shiftDouble; };
TWO_BYTE[0xa5] = (d, i) => { d.modrm(i); i.sub = 0; i.sub2 = 2; return shiftDouble; };
TWO_BYTE[0xac] = (d, i) => { d.modrm(i); i.imm = d.u8(); i.sub = 1; i.sub2 = 0; return shiftDouble; };
TWO_BYTE[0xad] = (d, i) => { d.modrm(i); i.sub = 1; i.sub2 = 2; return shiftDouble; };
TWO_BYTE[0xae] = (d, i) => {
  d.modrm(i);
  const r = i.reg & 7;
  if (!i.isMem) return r >= 5 && !d.mandatoryPrefix ? Y.nop : null; // lfence / mfence / sfence (with 66/F2/F3: #UD or CET/FSGSBASE, not advertised)
  // With 66/F3/F2 the memory forms are other instructions (66 /7 clflushopt) or #UD (as the host shows).
  if (d.mandatoryPrefix) return d.mandatoryPrefix === 0x66 && r === 7 ? Y.nop : null;
  switch (r) {
    case 0: case 1: case 4: case 5: return decodeFxsaveGroup(i);
    case 2: i.sub = 0; return control(d, Y.mxcsrAccess); // ldmxcsr may stop (#GP): ends the block
    case 3: i.sub = 1; return Y.mxcsrAccess;
    case 7: return Y.nop; // clflush
    default: return null;
  }
};
TWO_BYTE[0xaf] = (d, i) => { d.modrm(i); i.sub = 0; return A.imulRegRm; };
TWO_BYTE[0xb0] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8(i); return B.cmpxchg; };
TWO_BYTE[0xb1] = (d, i) => { d.modrm(i); return B.cmpxchg; };
TWO_BYTE[0xb6] = (d, i) => { d.modrm(i); i.sub = 1; d.fix8rm(i); return M.movzx; };
TWO_BYTE[0xb7] = (d, i) => { d.modrm(i); i.sub = 2; return M.movzx; };
TWO_BYTE[0xbe] = (d, i) => { d.modrm(i); i.sub = 1; d.fix8rm(i); return M.movsx; };
TWO_BYTE[0xbf] = (d, i) => { d.modrm(i); i.sub = 2; return M.movsx; };
TWO_BYTE[0xb8] = (d, i) => { d.modrm(i); return d.mandatoryPrefix === 0xf3 ? B.popcnt : null; };
TWO_BYTE[0xbc] = (d, i) => { d.modrm(i); if (d.mandatoryPrefix === 0xf3) { i.sub = 0; return B.countZeros; } i.sub = 0; return B.bitScan; };
TWO_BYTE[0xbd] = (d, i) => { d.modrm(i); if (d.mandatoryPrefix === 0xf3) { i.sub = 1; return B.countZeros; } i.sub = 1; return B.bitScan; };
TWO_BYTE[0xc0] = (d, i) => { i.opsize = 1; d.modrm(i); d.fix8(i); return B.xadd; };
TWO_BYTE[0xc1] = (d, i) => { d.modrm(i); return B.xadd; };
TWO_BYTE[0xc3] = (d, i) => { d.modrm(i); return i.isMem && !d.mandatoryPrefix ? M.movRmReg : null; }; // movnti: m32/m64, no 66/F2/F3
TWO_BYTE[0xc7] = (d, i) => { d.modrm(i); return (i.reg & 7) === 1 && i.isMem ? B.cmpxchgWide : null; };
def(TWO_BYTE, 0xc8, 0xcf, (d, i, op) => { i.rm = (op & 7) | d.rexB; return M.bswap; });
