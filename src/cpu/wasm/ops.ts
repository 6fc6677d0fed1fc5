/**
 * WebAssembly translations of the common integer instructions, keyed by the
 * interpreter's exec function (the semantics of ops/*.ts, and of the
 * JavaScript translations in jit/emit-*.ts, whose flag read/write masks the
 * liveness analysis shares). An instruction without an entry keeps its
 * region in JavaScript.
 *
 * Each translation probes every address it touches before changing any
 * register, memory or flag (a probe may leave the region before the
 * instruction).
 */
import { ARITH_FLAGS, CF, FlagOp, RAX, RBP, RCX, RDI, RDX, RSI, RSP, ZF } from '../cpu.js';
import type { ExecFn, Instr } from '../instr.js';
import * as A from '../ops/alu.js';
import * as C from '../ops/control.js';
import * as M from '../ops/move.js';
import * as Y from '../ops/system.js';
import { shiftRm } from '../ops/shift.js';
import * as B from '../ops/bits.js';
import * as STR from '../ops/string.js';
import { SEG_NONE } from '../instr.js';
import { Op } from './encoder.js';
import type { Terminator, WasmEmitter } from './emitter.js';
import { pushPF, pushSign, pushZF } from './flags.js';

export type WasmTranslation = (g: WasmEmitter, i: Instr) => Terminator | void | false;
export const WASM_OPS = new Map<ExecFn, WasmTranslation>();

const ALU_FLAGOP = [FlagOp.Add, FlagOp.Logic, FlagOp.Adc, FlagOp.Sbb, FlagOp.Logic, FlagOp.Sub, FlagOp.Logic, FlagOp.Sub];
const ADC = 2, SBB = 3, CMP = 7;

/** a OP b at size into a new local (masked), recording the flags. */
function alu(g: WasmEmitter, op: number, s: number, a: number, b: number): number {
  const f = g.f;
  let cin = -1;
  if (op === ADC || op === SBB) {
    g.pushCarry();
    cin = g.keep32();
  }
  f.get(a).get(b);
  switch (op) {
    case 0: f.op(Op.i64Add); break;
    case 1: f.op(Op.i64Or); break;
    case ADC: f.op(Op.i64Add).get(cin).op(Op.i64ExtendI32U, Op.i64Add); break;
    case SBB: f.op(Op.i64Sub).get(cin).op(Op.i64ExtendI32U, Op.i64Sub); break;
    case 4: f.op(Op.i64And); break;
    case 6: f.op(Op.i64Xor); break;
    default: f.op(Op.i64Sub);
  }
  g.mask(s);
  const r = g.keep64();
  g.produce(ALU_FLAGOP[op], s, a, b, r, cin);
  return r;
}

/** An immediate of size s (sign-extended imm32 for 8) in a new local. */
function imm(g: WasmEmitter, i: Instr, s: number): number {
  return g.const64(s === 8 ? i.imm : s === 4 ? i.imm >>> 0 : i.imm & (s === 2 ? 0xffff : 0xff));
}

/** The r/m operand read at size: [value local, host offset local or -1]. A memory destination is probed for writing. */
function readRm(g: WasmEmitter, i: Instr, s: number, forWrite: boolean): [number, number] {
  if (!i.isMem) return [g.read(i.rm, s), -1];
  const h = g.probe(g.ea(i), s, forWrite);
  return [g.loadTo(s, h), h];
}
/** Writes the r/m operand (h from readRm). */
function writeRm(g: WasmEmitter, i: Instr, s: number, h: number, v: number): void {
  if (h >= 0) g.store(s, h, v);
  else {
    g.f.get(v);
    g.setReg(i.rm, s);
  }
}

/** op r/m, b (rmIsDest) or op reg, r/m. */
function aluForm(g: WasmEmitter, i: Instr, b: number, rmIsDest: boolean): void {
  const s = i.opsize, op = i.sub;
  const [a, h] = readRm(g, i, s, rmIsDest && op !== CMP);
  if (rmIsDest) {
    const r = alu(g, op, s, a, b);
    if (op !== CMP) writeRm(g, i, s, h, r);
  } else {
    const r = alu(g, op, s, b, a);
    if (op !== CMP) {
      g.f.get(r);
      g.setReg(i.reg, s);
    }
  }
}

WASM_OPS.set(A.aluRmReg, (g, i) => aluForm(g, i, g.read(i.reg, i.opsize), true));
WASM_OPS.set(A.aluRegRm, (g, i) => aluForm(g, i, g.read(i.reg, i.opsize), false));
WASM_OPS.set(A.aluRmImm, (g, i) => {
  const was = g.version(i.rm);
  aluForm(g, i, imm(g, i, i.opsize), true);
  // add/sub of a constant to a 64-bit register (the stack frame's rsp): its page windows follow it.
  if (i.opsize === 8 && !i.isMem && (i.sub === 0 || i.sub === 5)) g.rebase(i.rm, was, i.sub === 0 ? i.imm : -i.imm);
});
WASM_OPS.set(A.add64RegReg, (g, i) => {
  const r = alu(g, 0, 8, g.read(i.rm, 8), g.read(i.reg, 8));
  g.f.get(r);
  g.setReg(i.rm, 8);
});
WASM_OPS.set(A.cmp64RegImm, (g, i) => void alu(g, CMP, 8, g.read(i.rm, 8), g.const64(i.imm)));
WASM_OPS.set(A.cmp32RegReg, (g, i) => void alu(g, CMP, 4, g.read(i.rm, 4), g.read(i.reg, 4)));
WASM_OPS.set(A.xor32Zero, (g, i) => {
  const z = g.const64(0);
  g.f.get(z);
  g.setReg(i.rm, 8);
  g.produce(FlagOp.Logic, 4, z, z, z);
});
function test(g: WasmEmitter, i: Instr, b: number): void {
  const [a] = readRm(g, i, i.opsize, false);
  g.f.get(a).get(b).op(Op.i64And);
  const r = g.keep64();
  g.produce(FlagOp.Logic, i.opsize, r, r, r);
}
WASM_OPS.set(A.testRmReg, (g, i) => test(g, i, g.read(i.reg, i.opsize)));
WASM_OPS.set(A.testRmImm, (g, i) => test(g, i, imm(g, i, i.opsize)));

WASM_OPS.set(A.incDec, (g, i) => {
  const s = i.opsize, inc = i.sub === 0;
  let cin = -1;
  // The preserved CF matters only if it can be observed before it is overwritten.
  if (g.live(1)) {
    g.pushCarry();
    cin = g.keep32();
  }
  const [a, h] = readRm(g, i, s, true);
  const one = g.const64(1);
  g.f.get(a).get(one).op(inc ? Op.i64Add : Op.i64Sub);
  g.mask(s);
  const r = g.keep64();
  writeRm(g, i, s, h, r);
  g.produce(inc ? FlagOp.Inc : FlagOp.Dec, s, a, one, r, cin);
});
WASM_OPS.set(A.negRm, (g, i) => {
  const s = i.opsize;
  const [a, h] = readRm(g, i, s, true);
  const r = alu(g, 5, s, g.const64(0), a);
  writeRm(g, i, s, h, r);
});
WASM_OPS.set(A.notRm, (g, i) => {
  const s = i.opsize;
  const [a, h] = readRm(g, i, s, true);
  g.f.get(a).i64(-1).op(Op.i64Xor);
  g.mask(s);
  writeRm(g, i, s, h, g.keep64());
});

/** imul reg, r/m[, imm]: CF = OF = the product does not fit; SF/ZF/PF from the truncated result, AF 0. */
WASM_OPS.set(A.imulRegRm, (g, i) => {
  const s = i.opsize, f = g.f;
  const [a] = readRm(g, i, s, false);
  const b = i.sub ? g.const64(i.imm) : g.read(i.reg, s);
  const ext = s === 2 ? Op.i64Extend16S : Op.i64Extend32S;
  let r: number, ovf = -1;
  const need = g.live(0x8d5);
  if (s === 8) {
    f.get(a).get(b).op(Op.i64Mul);
    r = g.keep64();
    if (need) {
      // Overflow iff a != 0 and r / a != b (a = -1: iff b is the most negative value, where the division would trap).
      ovf = g.t32();
      f.i32(0).set(ovf);
      f.get(a).op(Op.i64Eqz, Op.i32Eqz).open('if', 'nz');
      f.get(a).i64(-1).op(Op.i64Eq).open('if', 'm1');
      f.get(b).i64(-(2n ** 63n)).op(Op.i64Eq).set(ovf);
      f.else();
      f.get(r).get(a).op(Op.i64DivS).get(b).op(Op.i64Ne).set(ovf);
      f.end().end();
    }
  } else {
    f.get(a).op(ext).get(b).op(ext).op(Op.i64Mul);
    const p = g.keep64();
    f.get(p);
    g.mask(s);
    r = g.keep64();
    if (need) {
      f.get(p).get(p).op(ext).op(Op.i64Ne);
      ovf = g.keep32();
    }
  }
  if (need) setResFlags(g, s, r, ovf, ovf);
  f.get(r);
  g.setReg(i.reg, s);
});

/** Flags of shifts and multiplies: CF and OF given (i32 locals), AF 0, ZF/SF/PF from the result r (masked to s). */
function setResFlags(g: WasmEmitter, s: number, r: number, cf: number, of: number): void {
  const f = g.f;
  f.get(cf);
  pushPF(f, r);
  f.i32(2).op(Op.i32Shl, Op.i32Or);
  pushZF(f, r);
  f.i32(6).op(Op.i32Shl, Op.i32Or);
  pushSign(f, r, s);
  f.i32(7).op(Op.i32Shl, Op.i32Or);
  f.get(of).i32(11).op(Op.i32Shl, Op.i32Or);
  g.setExplicit();
}

// ------------------------------------------------------------------ moves

WASM_OPS.set(M.movRmReg, (g, i) => {
  const s = i.opsize;
  if (i.isMem) {
    const h = g.probe(g.ea(i), s, true);
    g.store(s, h, g.read(i.reg, s));
  } else {
    g.getReg(i.reg, s);
    g.setReg(i.rm, s);
  }
});
function load(g: WasmEmitter, i: Instr, s: number, dst: number, dsize = s): void {
  const [v] = readRm(g, i, s, false);
  g.f.get(v);
  g.setReg(dst, dsize);
}
WASM_OPS.set(M.movRegRm, (g, i) => load(g, i, i.opsize, i.reg));
WASM_OPS.set(M.mov64RegReg, (g, i) => {
  g.getReg(i.reg, 8);
  g.setReg(i.rm, 8);
});
WASM_OPS.set(M.mov64RegMem, (g, i) => load(g, i, 8, i.reg));
WASM_OPS.set(M.mov32RegMem, (g, i) => load(g, i, 4, i.reg));
function storeReg(g: WasmEmitter, i: Instr, s: number): void {
  const h = g.probe(g.ea(i), s, true);
  g.store(s, h, g.read(i.reg, s));
}
WASM_OPS.set(M.mov64MemReg, (g, i) => storeReg(g, i, 8));
WASM_OPS.set(M.mov32MemReg, (g, i) => storeReg(g, i, 4));
WASM_OPS.set(M.movRmImm, (g, i) => {
  const s = i.opsize;
  const v = g.const64(i.imm);
  if (i.isMem) g.store(s, g.probe(g.ea(i), s, true), v);
  else {
    g.f.get(v);
    g.setReg(i.rm, s);
  }
});
WASM_OPS.set(M.movRegImm, (g, i) => {
  g.f.i64(i.opsize === 8 ? (BigInt(i.immHi) << 32n) | BigInt(i.imm >>> 0) : i.imm >>> 0);
  g.setReg(i.rm, i.opsize);
});
WASM_OPS.set(M.lea, (g, i) => {
  g.f.get(g.ea(i, true));
  g.setReg(i.reg, i.opsize === 8 && i.adsize === 8 ? 8 : i.opsize === 2 ? 2 : 4);
});
WASM_OPS.set(M.movzx, (g, i) => load(g, i, i.sub, i.reg, i.opsize));
WASM_OPS.set(M.movsx, (g, i) => {
  const [v] = readRm(g, i, i.sub, false);
  g.f.get(v).op(i.sub === 1 ? Op.i64Extend8S : i.sub === 2 ? Op.i64Extend16S : Op.i64Extend32S);
  g.setReg(i.reg, i.opsize);
});
WASM_OPS.set(M.xchg, (g, i) => {
  const s = i.opsize;
  const b = g.read(i.reg, s);
  const [a, h] = readRm(g, i, s, true);
  writeRm(g, i, s, h, b);
  g.f.get(a);
  g.setReg(i.reg, s);
});
WASM_OPS.set(M.cmov, (g, i) => {
  const s = i.opsize, f = g.f;
  const [v] = readRm(g, i, s, false);
  const c = g.cond(i.sub);
  // The destination is written either way at size 4 (its upper half is zeroed).
  if (s === 4) {
    f.get(v);
    g.getReg(i.reg, 4);
    f.get(c).op(Op.select);
    g.setReg(i.reg, 4);
    return;
  }
  f.get(c).open('if', 'c');
  f.get(v);
  g.setReg(i.reg, s);
  f.end();
});
WASM_OPS.set(M.setcc, (g, i) => {
  const h = i.isMem ? g.probe(g.ea(i), 1, true) : -1;
  g.pushCond(i.sub);
  g.f.op(Op.i64ExtendI32U);
  const v = g.keep64();
  if (h >= 0) g.store(1, h, v);
  else {
    g.f.get(v);
    g.setReg(i.rm, 1);
  }
});
WASM_OPS.set(M.cbwFamily, (g, i) => {
  const s = i.opsize;
  g.getReg(RAX, s / 2);
  g.f.op(s === 8 ? Op.i64Extend32S : s === 4 ? Op.i64Extend16S : Op.i64Extend8S);
  g.setReg(RAX, s);
});
WASM_OPS.set(M.cwdFamily, (g, i) => {
  const s = i.opsize;
  g.getReg(RAX, s);
  if (s !== 8) g.f.op(s === 4 ? Op.i64Extend32S : Op.i64Extend16S);
  g.f.i64(63).op(Op.i64ShrS);
  g.setReg(RDX, s);
});

/** rsp - 8, probed for writing: [new rsp, host offset]. */
function pushSlot(g: WasmEmitter): [number, number] {
  g.f.get(g.reg(RSP)).i64(8).op(Op.i64Sub);
  const sp = g.keep64();
  g.noteAddress(sp, RSP, -8);
  return [sp, g.probe(sp, 8, true)];
}
/** Sets rsp to the i64 on the stack, its old value moved by delta: page windows on rsp follow it. */
function moveRsp(g: WasmEmitter, delta: number): void {
  const was = g.version(RSP);
  g.setReg(RSP, 8);
  g.rebase(RSP, was, delta);
}
/** Pushes the 64-bit local v (its value read before: push rsp pushes the old rsp). */
function push(g: WasmEmitter, v: number, slot = pushSlot(g)): void {
  g.store(8, slot[1], v);
  g.f.get(slot[0]);
  moveRsp(g, -8);
}
/** Pops 8 bytes (and `extra` more of ret imm16): returns the value's local. */
function pop(g: WasmEmitter, extra = 0): number {
  const v = g.loadTo(8, g.probe(g.reg(RSP), 8, false));
  g.f.get(g.reg(RSP)).i64(8 + extra).op(Op.i64Add);
  moveRsp(g, 8 + extra);
  return v;
}
const not16 = (i: Instr): boolean => i.opsize !== 2;
WASM_OPS.set(M.pushReg, (g, i) => not16(i) && push(g, g.read(i.rm, 8)));
WASM_OPS.set(M.popReg, (g, i) => {
  if (!not16(i)) return false;
  const v = pop(g);
  g.f.get(v);
  g.setReg(i.rm, 8);
});
WASM_OPS.set(M.pushImm, (g, i) => not16(i) && push(g, g.const64(i.imm)));
WASM_OPS.set(M.pushRm, (g, i) => {
  if (!not16(i)) return false;
  const [v] = readRm(g, i, 8, false);
  push(g, v);
});
WASM_OPS.set(M.leave, (g) => {
  const v = g.loadTo(8, g.probe(g.reg(RBP), 8, false));
  g.f.get(g.reg(RBP)).i64(8).op(Op.i64Add);
  g.setReg(RSP, 8);
  g.f.get(v);
  g.setReg(RBP, 8);
});
WASM_OPS.set(Y.nop, () => {});
WASM_OPS.set(M.bswap, (g, i) => {
  const s = i.opsize, f = g.f;
  if (s === 2) {
    f.i64(0);
    g.setReg(i.rm, 2);
    return;
  }
  const v = g.read(i.rm, s);
  // Byte k goes to byte s-1-k.
  f.i64(0);
  for (let k = 0; k < s; k++) {
    f.get(v).i64(8 * k).op(Op.i64ShrU).i64(0xff).op(Op.i64And).i64(8 * (s - 1 - k)).op(Op.i64Shl, Op.i64Or);
  }
  g.setReg(i.rm, s);
});

// ------------------------------------------------------------------ shifts

const ROL = 0, ROR = 1, RCL = 2, RCR = 3, SHL = 4, SAL = 6, SHR = 5, SAR = 7;

/**
 * shl/shr/sar/rol/ror of a (masked to s) by the i32 local n (1..bits-1, or
 * up to 31 for sizes 1 and 2): result, CF and OF (the formulas of ops/shift.ts).
 */
function shift(g: WasmEmitter, op: number, s: number, a: number, n: number): { r: number; cf: number; of: number } {
  const f = g.f, bits = s * 8;
  const n64 = () => f.get(n).op(Op.i64ExtendI32U);
  const bit = (v: number, k: number) => f.get(v).i64(k).op(Op.i64ShrU, Op.i32WrapI64).i32(1).op(Op.i32And);
  let r: number, cf: number, of: number;
  const sx = s === 1 ? Op.i64Extend8S : s === 2 ? Op.i64Extend16S : s === 4 ? Op.i64Extend32S : -1;
  switch (op) {
    case SHL:
    case SAL: {
      f.get(a);
      n64();
      f.op(Op.i64Shl);
      const wide = g.keep64();
      f.get(wide);
      g.mask(s);
      r = g.keep64();
      if (s === 8) {
        f.get(a).i64(64);
        n64();
        f.op(Op.i64Sub, Op.i64ShrU, Op.i32WrapI64).i32(1).op(Op.i32And);
      } else bit(wide, bits);
      cf = g.keep32();
      pushSign(f, r, s);
      f.get(cf).op(Op.i32Xor);
      of = g.keep32();
      break;
    }
    case SHR:
      f.get(a);
      n64();
      f.op(Op.i64ShrU);
      r = g.keep64();
      f.get(a);
      n64();
      f.i64(1).op(Op.i64Sub, Op.i64ShrU, Op.i32WrapI64).i32(1).op(Op.i32And);
      cf = g.keep32();
      pushSign(f, a, s);
      of = g.keep32();
      break;
    case SAR: {
      f.get(a);
      if (sx >= 0) f.op(sx);
      const sa = g.keep64();
      f.get(sa);
      n64();
      f.op(Op.i64ShrS);
      g.mask(s);
      r = g.keep64();
      f.get(sa);
      n64();
      f.i64(1).op(Op.i64Sub, Op.i64ShrS, Op.i32WrapI64).i32(1).op(Op.i32And);
      cf = g.keep32();
      f.i32(0);
      of = g.keep32();
      break;
    }
    default: {
      // rol/ror by k = n mod bits.
      if (s === 8) {
        f.get(a);
        n64();
        f.op(op === ROL ? Op.i64Rotl : Op.i64Rotr);
      } else {
        f.get(n).i32(bits).op(0x70 /* i32.rem_u */);
        const k = g.keep32();
        const k64 = () => f.get(k).op(Op.i64ExtendI32U);
        const [first, second] = op === ROL ? [Op.i64Shl, Op.i64ShrU] : [Op.i64ShrU, Op.i64Shl];
        f.get(a);
        k64();
        f.op(first).get(a).i64(bits);
        k64();
        f.op(Op.i64Sub, second, Op.i64Or);
        g.mask(s);
      }
      r = g.keep64();
      if (op === ROL) {
        bit(r, 0);
        cf = g.keep32();
        pushSign(f, r, s);
        f.get(cf).op(Op.i32Xor);
      } else {
        pushSign(f, r, s);
        cf = g.keep32();
        bit(r, bits - 2);
        f.get(cf).op(Op.i32Xor);
      }
      of = g.keep32();
    }
  }
  return { r, cf, of };
}

WASM_OPS.set(shiftRm, (g, i) => {
  const s = i.opsize, op = i.sub, f = g.f;
  if (op === RCL || op === RCR) return false;
  const cmask = s === 8 ? 63 : 31;
  const dyn = i.sub2 === 2;
  const rot = op === ROL || op === ROR;
  const needFlags = g.live(rot ? 0x801 : 0x8d5);
  let n: number;
  if (dyn) {
    g.getReg(RCX, 1);
    f.op(Op.i32WrapI64).i32(cmask).op(Op.i32And);
    n = g.keep32();
  } else {
    const k = (i.sub2 === 1 ? 1 : i.imm) & cmask;
    if (k === 0) {
      // Nothing changes, but a 32-bit register destination is still written (zero-extended).
      if (s === 4 && !i.isMem) {
        g.getReg(i.rm, 4);
        g.setReg(i.rm, 4);
      }
      return;
    }
    f.i32(k);
    n = g.keep32();
  }
  // Flags survive a zero count, and rotates change only CF and OF: the others must be in fl first.
  if (needFlags && (dyn || rot)) g.materialize();
  if (dyn) f.get(n).open('if', 'n');
  const [a, h] = readRm(g, i, s, true);
  const res = shift(g, op, s, a, n);
  writeRm(g, i, s, h, res.r);
  if (needFlags) {
    if (rot) {
      f.get(g.fl).i32(~0x801).op(Op.i32And).get(res.cf).op(Op.i32Or).get(res.of).i32(11).op(Op.i32Shl, Op.i32Or).set(g.fl);
    } else setResFlags(g, s, res.r, res.cf, res.of);
  }
  if (dyn) {
    if (s === 4 && !i.isMem) {
      f.else();
      g.getReg(i.rm, 4);
      g.setReg(i.rm, 4);
    }
    f.end();
  }
  if (needFlags) g.flags = { kind: 'explicit' };
});

// ------------------------------------------------------------------ control

const RA = (i: Instr): bigint => BigInt(i.next);
WASM_OPS.set(C.jmpRel, (_g, i) => ({ kind: 'jump', target: i.target }));
WASM_OPS.set(C.jcc, (g, i) => ({ kind: 'cond', cond: g.cond(i.sub), target: i.target, next: i.next }));
WASM_OPS.set(C.callRel, (g, i) => {
  push(g, g.const64(RA(i)));
  return { kind: 'jump', target: i.target, ret: i.next };
});
WASM_OPS.set(C.ret, (g, i) => ({ kind: 'indirect', local: pop(g, i.imm) }));
WASM_OPS.set(C.jmpRm, (g, i) => ({ kind: 'indirect', local: readRm(g, i, 8, false)[0] }));
WASM_OPS.set(C.callRm, (g, i) => {
  const [t] = readRm(g, i, 8, false);
  const slot = pushSlot(g);
  push(g, g.const64(RA(i)), slot);
  return { kind: 'indirect', local: t, ret: i.next };
});

/**
 * Instructions the region leaves for, to the interpreter (they end their
 * block, and leave the translated code anyway): syscall.
 */
export const LEAVES = new Set<ExecFn>([C.syscall]);
for (const e of LEAVES) {
  WASM_OPS.set(e, (g) => {
    g.slowExit();
    return { kind: 'left' };
  });
}

// ------------------------------------------------------------------ bits

/** Replaces the flags in mask with the i32 bits on the stack (only when any flag is live: the others must be kept). */
function someFlags(g: WasmEmitter, mask: number): void {
  const bits = g.keep32();
  if (!g.live(ARITH_FLAGS)) return;
  g.materialize();
  g.f.get(g.fl).i32(~mask).op(Op.i32And).get(bits).op(Op.i32Or).set(g.fl);
}

/** bsf / bsr (i.sub 0 / 1): ZF = source zero, when the destination is left unchanged. */
WASM_OPS.set(B.bitScan, (g, i) => {
  const s = i.opsize, f = g.f;
  const [v] = readRm(g, i, s, false);
  f.get(v).op(Op.i64Eqz);
  const zero = g.keep32();
  f.get(zero).i32(6).op(Op.i32Shl);
  someFlags(g, ZF);
  f.get(zero).op(Op.i32Eqz).open('if', 'nz');
  if (i.sub === 0) f.get(v).op(Op.i64Ctz);
  else f.i64(63).get(v).op(Op.i64Clz, Op.i64Sub);
  g.setReg(i.reg, s);
  f.end();
});
/** tzcnt / lzcnt (i.sub 0 / 1): CF = source zero, ZF = result zero. */
WASM_OPS.set(B.countZeros, (g, i) => {
  const s = i.opsize, f = g.f, bits = s * 8;
  const [v] = readRm(g, i, s, false);
  if (i.sub === 0) {
    f.get(v);
    if (s !== 8) f.i64(1n << BigInt(bits)).op(Op.i64Or);
    f.op(Op.i64Ctz);
  } else {
    f.get(v).op(Op.i64Clz);
    if (s !== 8) f.i64(64 - bits).op(Op.i64Sub);
  }
  const n = g.keep64();
  f.get(n).i64(bits).op(Op.i64Eq).get(n).op(Op.i64Eqz).i32(6).op(Op.i32Shl, Op.i32Or);
  someFlags(g, CF | ZF);
  f.get(n);
  g.setReg(i.reg, s);
});
/**
 * bt/bts/btr/btc (i.sub 0-3; i.sub2: the offset is an immediate): CF = the
 * bit; the other flags are kept (as the interpreter does). A register operand
 * takes the offset modulo its size; a memory operand with a register offset
 * addresses a bit string (the signed offset / 8 from the address), one with
 * an immediate the offset modulo the size.
 */
WASM_OPS.set(B.bitTest, (g, i) => {
  const s = i.opsize, f = g.f, write = i.sub !== 0;
  let v: number, h = -1, off: number;
  if (!i.isMem) {
    v = g.read(i.rm, s);
    if (i.sub2) f.i64(i.imm & (s * 8 - 1));
    else f.get(g.read(i.reg, s)).i64(s * 8 - 1).op(Op.i64And);
    off = g.keep64();
  } else {
    const a = g.ea(i);
    if (i.sub2) {
      const bit = i.imm & (s * 8 - 1);
      f.get(a).i64(bit >> 3).op(Op.i64Add);
      f.i64(bit & 7);
    } else {
      // The offset, sign-extended from the operand size: the byte is at address + (offset >> 3).
      g.getReg(i.reg, s);
      if (s === 2) f.op(Op.i64Extend16S);
      else if (s === 4) f.op(Op.i64Extend32S);
      const o = g.keep64();
      f.get(a).get(o).i64(3).op(Op.i64ShrS, Op.i64Add);
      f.get(o).i64(7).op(Op.i64And);
    }
    off = g.keep64();
    const at = g.keep64();
    h = g.probe(at, 1, write);
    v = g.loadTo(1, h);
  }
  f.get(v).get(off).op(Op.i64ShrU).op(Op.i32WrapI64).i32(1).op(Op.i32And);
  someFlags(g, CF);
  if (!write) return;
  f.i64(1).get(off).op(Op.i64Shl);
  const bit = g.keep64();
  if (i.sub === 1) f.get(v).get(bit).op(Op.i64Or);
  else if (i.sub === 2) f.get(v).get(bit).i64(-1).op(Op.i64Xor, Op.i64And);
  else f.get(v).get(bit).op(Op.i64Xor);
  const r = g.keep64();
  if (h >= 0) g.store(1, h, r);
  else writeRm(g, i, s, -1, r);
});
/** popcnt: ZF = source zero; the other arithmetic flags cleared. */
WASM_OPS.set(B.popcnt, (g, i) => {
  const s = i.opsize, f = g.f;
  const [v] = readRm(g, i, s, false);
  f.get(v).op(Op.i64Popcnt);
  const n = g.keep64();
  f.get(n).op(Op.i64Eqz).i32(6).op(Op.i32Shl);
  g.setExplicit();
  f.get(n);
  g.setReg(i.reg, s);
});

// ------------------------------------------------------------------ strings

/**
 * Single movs/stos/lods, forward (DF set leaves for the interpreter), with
 * 64-bit addresses and no segment override. Rep forms with a zero count do
 * nothing (musl's memcpy runs a rep movsq for every copy, of no words when
 * it is short); others run through the fallback (fallback.ts): the
 * interpreter's bulk copies and fills, called from the region. They used to
 * leave the region for the interpreter: busybox sha1sum copies each 64-byte
 * block with a rep movsb, 16k trips out and back a run.
 */
function stringForm(g: WasmEmitter, i: Instr): boolean {
  if (i.adsize !== 8 || i.seg !== SEG_NONE) return false;
  if (i.rep) {
    g.syncFlags(); // both ways on, the flags are in the run-time description
    g.f.get(g.reg(RCX)).op(Op.i64Eqz, Op.i32Eqz).open('if', 'rep');
    g.fallback(i);
    g.f.end();
    return true;
  }
  g.requireForward();
  return true;
}
function advance(g: WasmEmitter, reg: number, size: number): void {
  g.f.get(g.reg(reg)).i64(size).op(Op.i64Add);
  g.setReg(reg, 8);
}
WASM_OPS.set(STR.movs, (g, i) => {
  if (!stringForm(g, i)) return false;
  if (i.rep) return;
  const s = i.opsize;
  const src = g.probe(g.reg(RSI), s, false), dst = g.probe(g.reg(RDI), s, true);
  g.store(s, dst, g.loadTo(s, src));
  advance(g, RSI, s);
  advance(g, RDI, s);
});
WASM_OPS.set(STR.stos, (g, i) => {
  if (!stringForm(g, i)) return false;
  if (i.rep) return;
  const s = i.opsize;
  g.store(s, g.probe(g.reg(RDI), s, true), g.read(RAX, s));
  advance(g, RDI, s);
});
WASM_OPS.set(STR.lods, (g, i) => {
  if (i.rep || !stringForm(g, i)) return false;
  const s = i.opsize;
  const v = g.loadTo(s, g.probe(g.reg(RSI), s, false));
  advance(g, RSI, s);
  g.f.get(v);
  g.setReg(RAX, s);
});

// ------------------------------------------------------------------ multiply / divide

/** The high 64 bits of the unsigned 128-bit product of the i64 locals a and b, in a new local. */
function mulHighU(g: WasmEmitter, a: number, b: number): number {
  const f = g.f;
  const half = (v: number, high: boolean) => {
    f.get(v);
    if (high) f.i64(32).op(Op.i64ShrU);
    else f.i64(0xffffffffn).op(Op.i64And);
  };
  const prod = (x: boolean, y: boolean) => {
    half(a, x);
    half(b, y);
    f.op(Op.i64Mul);
    return g.keep64();
  };
  const ll = prod(false, false), lh = prod(false, true), hl = prod(true, false), hh = prod(true, true);
  const lo32 = (v: number) => f.get(v).i64(0xffffffffn).op(Op.i64And);
  const hi32 = (v: number) => f.get(v).i64(32).op(Op.i64ShrU);
  hi32(ll);
  lo32(lh);
  f.op(Op.i64Add);
  lo32(hl);
  f.op(Op.i64Add);
  const mid = g.keep64();
  f.get(hh);
  hi32(lh);
  f.op(Op.i64Add);
  hi32(hl);
  f.op(Op.i64Add);
  hi32(mid);
  f.op(Op.i64Add);
  return g.keep64();
}

/** mul / imul r/m (one operand): rdx:rax = rax * r/m; CF = OF = the high half is significant. Sizes 4 and 8. */
function mulWide(g: WasmEmitter, i: Instr, signed: boolean): false | void {
  const s = i.opsize, f = g.f;
  if (s !== 4 && s !== 8) return false;
  const [b] = readRm(g, i, s, false);
  const a = g.read(RAX, s);
  let lo: number, hi: number;
  if (s === 4) {
    const ext = (v: number) => (signed ? f.get(v).op(Op.i64Extend32S) : f.get(v));
    ext(a);
    ext(b);
    f.op(Op.i64Mul);
    const p = g.keep64();
    f.get(p).i64(0xffffffffn).op(Op.i64And);
    lo = g.keep64();
    f.get(p).i64(32).op(signed ? Op.i64ShrS : Op.i64ShrU).i64(0xffffffffn).op(Op.i64And);
    hi = g.keep64();
    if (g.live(ARITH_FLAGS)) {
      if (signed) f.get(p).get(p).op(Op.i64Extend32S, Op.i64Ne);
      else f.get(hi).op(Op.i64Eqz, Op.i32Eqz);
    }
  } else {
    f.get(a).get(b).op(Op.i64Mul);
    lo = g.keep64();
    hi = mulHighU(g, a, b);
    if (signed) {
      // Signed high half: subtract b where a < 0 and a where b < 0.
      for (const [x, y] of [[a, b], [b, a]]) {
        f.get(hi).get(y).i64(0).get(x).i64(0).op(Op.i64LtS).op(Op.select).op(Op.i64Sub).set(hi);
      }
    }
    if (g.live(ARITH_FLAGS)) {
      if (signed) f.get(hi).get(lo).i64(63).op(Op.i64ShrS).op(Op.i64Ne);
      else f.get(hi).op(Op.i64Eqz, Op.i32Eqz);
    }
  }
  if (g.live(ARITH_FLAGS)) {
    const ovf = g.keep32();
    setResFlags(g, s, lo, ovf, ovf);
  }
  f.get(lo);
  g.setReg(RAX, s);
  f.get(hi);
  g.setReg(RDX, s);
}
WASM_OPS.set(A.mulRm, (g, i) => mulWide(g, i, false));
WASM_OPS.set(A.imul1Rm, (g, i) => mulWide(g, i, true));

/**
 * div / idiv r/m, sizes 4 and 8: a zero divisor, a quotient that does not
 * fit, or (size 8) a dividend wider than rax leave for the interpreter,
 * which raises the divide error or divides 128 bits. Flags are unchanged.
 */
function divide(g: WasmEmitter, i: Instr, signed: boolean): false | void {
  const s = i.opsize, f = g.f;
  if (s !== 4 && s !== 8) return false;
  const [d0] = readRm(g, i, s, false);
  let n: number, d: number;
  if (s === 8) {
    n = g.read(RAX, 8);
    d = d0;
    // rdx must be the extension of rax.
    f.get(g.reg(RDX));
    if (signed) f.get(n).i64(63).op(Op.i64ShrS);
    else f.i64(0);
    f.op(Op.i64Ne);
  } else {
    g.getReg(RDX, 4);
    f.i64(32).op(Op.i64Shl);
    g.getReg(RAX, 4);
    f.op(Op.i64Or);
    n = g.keep64();
    f.get(d0);
    if (signed) f.op(Op.i64Extend32S);
    d = g.keep64();
    if (signed) {
      // The dividend must fit in 32 bits (then the quotient needs only a range check).
      f.get(n).get(n).op(Op.i64Extend32S, Op.i64Ne);
      f.get(n).op(Op.i64Extend32S).set(n);
    } else f.i32(0);
  }
  f.get(d).op(Op.i64Eqz, Op.i32Or);
  if (signed && s === 8) f.get(n).i64(-(2n ** 63n)).op(Op.i64Eq).get(d).i64(-1).op(Op.i64Eq, Op.i32And, Op.i32Or);
  f.ifUnlikely('slow');
  g.slowExit();
  f.end();
  f.get(n).get(d).op(signed ? Op.i64DivS : Op.i64DivU);
  const q = g.keep64();
  f.get(n).get(d).op(signed ? Op.i64RemS : Op.i64RemU);
  const r = g.keep64();
  if (s === 4) {
    if (signed) f.get(q).get(q).op(Op.i64Extend32S, Op.i64Ne);
    else f.get(q).i64(32).op(Op.i64ShrU, Op.i64Eqz, Op.i32Eqz);
    f.ifUnlikely('range');
    g.slowExit();
    f.end();
  }
  f.get(q);
  g.setReg(RAX, s);
  f.get(r);
  g.setReg(RDX, s);
}
WASM_OPS.set(A.divRm, (g, i) => divide(g, i, false));
WASM_OPS.set(A.idivRm, (g, i) => divide(g, i, true));
