/**
 * Decode tables for the x87 escape opcodes D8..DF: one ExecFn per
 * (opcode, ModRM) shape, chosen once at decode time. Register forms are
 * indexed by (opcode & 7) * 64 + (ModRM & 63); memory forms by
 * (opcode & 7) * 8 + ModRM.reg. A null entry is an undefined encoding (SIGILL).
 *
 * Besides the documented encodings, the long-standing aliases are decoded
 * as hardware executes them: D9 D8+i, DF D0+i, DF D8+i (fstp), DC D0+i /
 * DC D8+i / DE D0+i (fcom/fcomp), DD C8+i / DF C8+i (fxch), DF C0+i (ffreep),
 * and the 8087/287 leftovers DB E0 (feni), DB E1 (fdisi), DB E4 (fsetpm) as no-ops.
 *
 * Slots of the Instr used by the x87: `sub` = the ST(i) index of register
 * forms, `sub2` = the 11-bit FOP (last opcode) recorded for fxsave/fnstenv.
 */
import type { ExecFn, Instr } from '../instr.js';
import { arithMem, arithReg, fprem, frndint, fscale, fsqrt, fxtract } from './arith.js';
import { fcomi, fcomMem, fcomReg, ftst, fxam } from './compare.js';
import { fldcw, fldenv, fnclex, fninit, fnopControl, fnsave, fnstcw, fnstenv, fnstswAx, fnstswMem, frstor } from './control.js';
import {
  fbstp, fcmov, ffree, ffreep, fistMem, fldConst, fldMem, fldReg, fnop, fsign, fstM32, fstM64, fstpM80, fstReg, fstep, fxch,
  loadBCD, loadI16, loadI32, loadI64, loadM32, loadM64, loadM80, type MemLoad,
} from './loadstore.js';
import { f2xm1, fcos, fpatan, fptan, fsin, fsincos, fyl2x, fyl2xp1 } from './transcendental.js';

const MEM: (ExecFn | null)[] = new Array(64).fill(null);
const REG: (ExecFn | null)[] = new Array(512).fill(null);

/** The eight arithmetic /digits of D8, DA, DC, DE memory forms. */
function arithGroup(op: number, load: MemLoad): void {
  for (let r = 0; r < 8; r++) {
    MEM[op * 8 + r] = r === 2 ? fcomMem(load, false) : r === 3 ? fcomMem(load, true) : arithMem(r, load);
  }
}
arithGroup(0, loadM32);
arithGroup(2, loadI32);
arithGroup(4, loadM64);
arithGroup(6, loadI16);

MEM[1 * 8 + 0] = fldMem(loadM32, true);
MEM[1 * 8 + 2] = fstM32(false);
MEM[1 * 8 + 3] = fstM32(true);
MEM[1 * 8 + 4] = fldenv(false);
MEM[1 * 8 + 5] = fldcw;
MEM[1 * 8 + 6] = fnstenv(false);
MEM[1 * 8 + 7] = fnstcw;

MEM[3 * 8 + 0] = fldMem(loadI32, false);
MEM[3 * 8 + 1] = fistMem(4, true, true);
MEM[3 * 8 + 2] = fistMem(4, false, false);
MEM[3 * 8 + 3] = fistMem(4, true, false);
MEM[3 * 8 + 5] = fldMem(loadM80, false);
MEM[3 * 8 + 7] = fstpM80;

MEM[5 * 8 + 0] = fldMem(loadM64, true);
MEM[5 * 8 + 1] = fistMem(8, true, true);
MEM[5 * 8 + 2] = fstM64(false);
MEM[5 * 8 + 3] = fstM64(true);
MEM[5 * 8 + 4] = frstor(false);
MEM[5 * 8 + 6] = fnsave(false);
MEM[5 * 8 + 7] = fnstswMem;

MEM[7 * 8 + 0] = fldMem(loadI16, false);
MEM[7 * 8 + 1] = fistMem(2, true, true);
MEM[7 * 8 + 2] = fistMem(2, false, false);
MEM[7 * 8 + 3] = fistMem(2, true, false);
MEM[7 * 8 + 4] = fldMem(loadBCD, false);
MEM[7 * 8 + 5] = fldMem(loadI64, false);
MEM[7 * 8 + 6] = fbstp;
MEM[7 * 8 + 7] = fistMem(8, true, false);

/** 16-bit environment forms (operand-size prefix). */
const FLDENV16 = fldenv(true), FNSTENV16 = fnstenv(true), FRSTOR16 = frstor(true), FNSAVE16 = fnsave(true);

function reg8(op: number, r: number, fn: ExecFn): void {
  for (let k = 0; k < 8; k++) REG[op * 64 + r * 8 + k] = fn;
}
function reg1(op: number, modrm: number, fn: ExecFn): void {
  REG[op * 64 + (modrm & 63)] = fn;
}

// D8: ST(0) = ST(0) op ST(i)
for (const r of [0, 1, 4, 5, 6, 7]) reg8(0, r, arithReg(r, false, false));
reg8(0, 2, fcomReg(true, 0));
reg8(0, 3, fcomReg(true, 1));

// D9
reg8(1, 0, fldReg);
reg8(1, 1, fxch);
reg1(1, 0xd0, fnop);
reg8(1, 3, fstReg(true));
reg1(1, 0xe0, fsign(1));
reg1(1, 0xe1, fsign(2));
reg1(1, 0xe4, ftst);
reg1(1, 0xe5, fxam);
for (let k = 0; k < 7; k++) reg1(1, 0xe8 + k, fldConst(k));
reg1(1, 0xf0, f2xm1);
reg1(1, 0xf1, fyl2x);
reg1(1, 0xf2, fptan);
reg1(1, 0xf3, fpatan);
reg1(1, 0xf4, fxtract);
reg1(1, 0xf5, fprem(true));
reg1(1, 0xf6, fstep(-1));
reg1(1, 0xf7, fstep(1));
reg1(1, 0xf8, fprem(false));
reg1(1, 0xf9, fyl2xp1);
reg1(1, 0xfa, fsqrt);
reg1(1, 0xfb, fsincos);
reg1(1, 0xfc, frndint);
reg1(1, 0xfd, fscale);
reg1(1, 0xfe, fsin);
reg1(1, 0xff, fcos);

// DA: fcmovb/e/be/u (condition codes as in Jcc), fucompp
reg8(2, 0, fcmov(0x2));
reg8(2, 1, fcmov(0x4));
reg8(2, 2, fcmov(0x6));
reg8(2, 3, fcmov(0xa));
reg1(2, 0xe9, fcomReg(false, 2));

// DB: fcmovnb/ne/nbe/nu, fnclex, fninit, fucomi, fcomi
reg8(3, 0, fcmov(0x3));
reg8(3, 1, fcmov(0x5));
reg8(3, 2, fcmov(0x7));
reg8(3, 3, fcmov(0xb));
reg1(3, 0xe0, fnopControl);
reg1(3, 0xe1, fnopControl);
reg1(3, 0xe2, fnclex);
reg1(3, 0xe3, fninit);
reg1(3, 0xe4, fnopControl);
reg8(3, 5, fcomi(false, false));
reg8(3, 6, fcomi(true, false));

// DC: ST(i) = ST(i) op ST(0); /4 is fsubr, /5 fsub, /6 fdivr, /7 fdiv (dest = ST(i)).
reg8(4, 0, arithReg(0, true, false));
reg8(4, 1, arithReg(1, true, false));
reg8(4, 2, fcomReg(true, 0));
reg8(4, 3, fcomReg(true, 1));
reg8(4, 4, arithReg(5, true, false));
reg8(4, 5, arithReg(4, true, false));
reg8(4, 6, arithReg(7, true, false));
reg8(4, 7, arithReg(6, true, false));

// DD
reg8(5, 0, ffree);
reg8(5, 1, fxch);
reg8(5, 2, fstReg(false));
reg8(5, 3, fstReg(true));
reg8(5, 4, fcomReg(false, 0));
reg8(5, 5, fcomReg(false, 1));

// DE: the popping forms
reg8(6, 0, arithReg(0, true, true));
reg8(6, 1, arithReg(1, true, true));
reg8(6, 2, fcomReg(true, 1));
reg1(6, 0xd9, fcomReg(true, 2));
reg8(6, 4, arithReg(5, true, true));
reg8(6, 5, arithReg(4, true, true));
reg8(6, 6, arithReg(7, true, true));
reg8(6, 7, arithReg(6, true, true));

// DF
reg8(7, 0, ffreep);
reg8(7, 1, fxch);
reg8(7, 2, fstReg(true));
reg8(7, 3, fstReg(true));
reg1(7, 0xe0, fnstswAx);
reg8(7, 5, fcomi(false, true));
reg8(7, 6, fcomi(true, true));

/** ModRM.rm of a memory operand as encoded (reconstructed for FOP: SIB → 4, rip-relative → 5). */
function memRm(i: Instr): number {
  if (i.index >= 0) return 4;
  if (i.base < 0) return i.mod === 0 ? 5 : 4;
  return i.base & 7;
}

/** Decodes an x87 escape (i.op = 0xD8..0xDF) whose ModRM has been parsed. */
export function decodeX87(i: Instr): ExecFn | null {
  const op = i.op & 7, r = i.reg & 7;
  if (i.mod !== 3) {
    i.sub2 = (op << 8) | (i.mod << 6) | (r << 3) | memRm(i);
    if (i.p66 && (op === 1 || op === 5) && (r === 4 || r === 6)) {
      if (op === 1) return r === 4 ? FLDENV16 : FNSTENV16;
      return r === 4 ? FRSTOR16 : FNSAVE16;
    }
    return MEM[op * 8 + r];
  }
  const rm = i.rm & 7;
  i.sub = rm;
  i.sub2 = (op << 8) | 0xc0 | (r << 3) | rm;
  return REG[op * 64 + r * 8 + rm];
}
