/** Translations of the integer ALU instructions: add/or/adc/sbb/and/sub/xor/cmp, test, inc/dec, neg, not, imul. */
import { CF, FlagOp } from '../cpu.js';
import type { Instr } from '../instr.js';
import * as A from '../ops/alu.js';
import { type Emitter, MASK } from './emitter.js';
import { ARITH_FLAGS, Res } from './flag-exprs.js';
import { translate } from './translator.js';

const ALU_FLAGOP = [FlagOp.Add, FlagOp.Logic, FlagOp.Adc, FlagOp.Sbb, FlagOp.Logic, FlagOp.Sub, FlagOp.Logic, FlagOp.Sub];
const ADC = 2, SBB = 3, CMP = 7;

/** Computes a OP b (no side effects); returns the result and a function that records the flags. */
function alu(g: Emitter, op: number, s: number, a: string, ah: string, b: string, bh: string): { r: string; rh: string; flags: () => void } {
  const r = g.t();
  let rh = '0';
  let cin: string | undefined;
  const m = MASK[s];
  const wrap = (e: string) => (s === 4 ? `(${e}) | 0` : `(${e}) & ${m}`);
  if (op === ADC || op === SBB) cin = g.val(g.cf());
  if (s === 8) {
    rh = g.t();
    switch (op) {
      case 0:
        g.emit(`const ${r} = (${a} + ${b}) | 0, ${rh} = (${ah} + ${bh} + ((${r} >>> 0) < (${a} >>> 0) ? 1 : 0)) | 0;`);
        break;
      case ADC: {
        const sum = g.t();
        g.emit(`const ${sum} = (${a} >>> 0) + (${b} >>> 0) + ${cin}, ${r} = ${sum} | 0, ${rh} = (${ah} + ${bh} + (${sum} > 4294967295 ? 1 : 0)) | 0;`);
        break;
      }
      case SBB: {
        const d = g.t();
        g.emit(`const ${d} = (${a} >>> 0) - (${b} >>> 0) - ${cin}, ${r} = ${d} | 0, ${rh} = (${ah} - ${bh} - (${d} < 0 ? 1 : 0)) | 0;`);
        break;
      }
      case 5:
      case CMP:
        g.emit(`const ${r} = (${a} - ${b}) | 0, ${rh} = (${ah} - ${bh} - ((${a} >>> 0) < (${b} >>> 0) ? 1 : 0)) | 0;`);
        break;
      case 1: g.emit(`const ${r} = ${a} | ${b}, ${rh} = ${ah} | ${bh};`); break;
      case 4: g.emit(`const ${r} = ${a} & ${b}, ${rh} = ${ah} & ${bh};`); break;
      default: g.emit(`const ${r} = ${a} ^ ${b}, ${rh} = ${ah} ^ ${bh};`);
    }
  } else {
    switch (op) {
      case 0: g.emit(`const ${r} = ${wrap(`${a} + ${b}`)};`); break;
      case ADC: g.emit(`const ${r} = ${wrap(`${a} + ${b} + ${cin}`)};`); break;
      case SBB: g.emit(`const ${r} = ${wrap(`${a} - ${b} - ${cin}`)};`); break;
      case 5:
      case CMP: g.emit(`const ${r} = ${wrap(`${a} - ${b}`)};`); break;
      case 1: g.emit(`const ${r} = ${a} | ${b};`); break;
      case 4: g.emit(`const ${r} = ${a} & ${b};`); break;
      default: g.emit(`const ${r} = ${a} ^ ${b};`);
    }
  }
  const fop = ALU_FLAGOP[op];
  const flags = () => {
    if (fop === FlagOp.Logic) g.produce(fop, s, { r, rh });
    else g.produce(fop, s, { a, ah, b, bh, r, rh, cin });
  };
  return { r, rh, flags };
}

const aluFlags = (i: Instr): [number, number] => [i.sub === ADC || i.sub === SBB ? CF : 0, ARITH_FLAGS];

/** op r/m, reg / op reg, r/m / op r/m, imm with the value of the non-r/m operand given. */
function aluRm(g: Emitter, i: Instr, b: string, bh: string, rmIsDest: boolean): void {
  const s = i.opsize, op = i.sub;
  if (i.isMem) {
    const [al, ah] = g.ea(i);
    const [a, aH] = g.load(s, al, ah);
    if (rmIsDest) {
      const res = alu(g, op, s, a, aH, b, bh);
      if (op !== CMP) g.store(s, al, ah, res.r, res.rh);
      res.flags();
    } else {
      // reg OP mem: the register is the left operand.
      const res = alu(g, op, s, b, bh, a, aH);
      res.flags();
      if (op !== CMP) g.set(i.reg, s, res.r, res.rh);
    }
    return;
  }
  const a = g.get(i.rm, s), aH = s === 8 ? g.hi(i.rm) : '0';
  if (rmIsDest) {
    const res = alu(g, op, s, a, aH, b, bh);
    res.flags();
    if (op !== CMP) g.set(i.rm, s, res.r, res.rh);
  } else {
    const res = alu(g, op, s, b, bh, a, aH);
    res.flags();
    if (op !== CMP) g.set(i.reg, s, res.r, res.rh);
  }
}

translate(A.aluRmReg, {
  flags: aluFlags,
  emit(g, i) {
    const s = i.opsize;
    aluRm(g, i, g.get(i.reg, s), s === 8 ? g.hi(i.reg) : '0', true);
  },
});
translate(A.aluRegRm, {
  flags: aluFlags,
  emit(g, i) {
    const s = i.opsize;
    aluRm(g, i, g.get(i.reg, s), s === 8 ? g.hi(i.reg) : '0', false);
  },
});
translate(A.aluRmImm, {
  flags: aluFlags,
  emit(g, i) {
    const s = i.opsize;
    const b = s === 1 ? i.imm & 0xff : s === 2 ? i.imm & 0xffff : i.imm;
    const was = g.version(i.rm);
    aluRm(g, i, String(b), String(i.imm >> 31), true);
    // add/sub of a constant to a 64-bit register (the stack frame's rsp): its page windows follow it.
    if (s === 8 && !i.isMem && (i.sub === 0 || i.sub === 5)) g.rebase(i.rm, was, i.sub === 0 ? i.imm : -i.imm);
  },
});
translate(A.add64RegReg, {
  flags: () => [0, ARITH_FLAGS],
  emit(g, i) {
    const res = alu(g, 0, 8, g.lo(i.rm), g.hi(i.rm), g.lo(i.reg), g.hi(i.reg));
    res.flags();
    g.set(i.rm, 8, res.r, res.rh);
  },
});
translate(A.cmp64RegImm, {
  flags: () => [0, ARITH_FLAGS],
  emit(g, i) {
    alu(g, CMP, 8, g.lo(i.rm), g.hi(i.rm), String(i.imm), String(i.imm >> 31)).flags();
  },
});
translate(A.cmp32RegReg, {
  flags: () => [0, ARITH_FLAGS],
  emit(g, i) {
    alu(g, CMP, 4, g.lo(i.rm), '0', g.lo(i.reg), '0').flags();
  },
});
translate(A.xor32Zero, {
  flags: () => [0, ARITH_FLAGS],
  emit(g, i) {
    g.produce(FlagOp.Logic, 4, { r: '0' });
    g.set(i.rm, 4, '0');
  },
});

translate(A.testRmReg, {
  flags: () => [0, ARITH_FLAGS],
  emit(g, i) {
    const s = i.opsize;
    const b = g.get(i.reg, s), bh = s === 8 ? g.hi(i.reg) : '0';
    const [a, ah] = g.readRM(i, s);
    g.produce(FlagOp.Logic, s, { r: `${a} & ${b}`, rh: `${ah} & ${bh}` });
  },
});
translate(A.testRmImm, {
  flags: () => [0, ARITH_FLAGS],
  emit(g, i) {
    const s = i.opsize;
    const [a, ah] = g.readRM(i, s);
    g.produce(FlagOp.Logic, s, { r: `${a} & ${i.imm & MASK[s]}`, rh: `${ah} & ${i.imm >> 31}` });
  },
});

translate(A.incDec, {
  flags: () => [0, ARITH_FLAGS & ~CF],
  emit(g, i) {
    const s = i.opsize, inc = i.sub === 0;
    // The preserved CF matters only if someone can observe it before it is overwritten.
    const cin = g.live(CF) ? g.val(g.cf()) : '0';
    let al = '', ah = '', a: string, aH: string;
    if (i.isMem) {
      [al, ah] = g.ea(i);
      [a, aH] = g.load(s, al, ah);
    } else {
      a = g.get(i.rm, s);
      aH = s === 8 ? g.hi(i.rm) : '0';
    }
    const r = g.t();
    let rh = '0';
    if (s === 8) {
      rh = g.t();
      if (inc) g.emit(`const ${r} = (${a} + 1) | 0, ${rh} = (${aH} + (${r} === 0 ? 1 : 0)) | 0;`);
      else g.emit(`const ${r} = (${a} - 1) | 0, ${rh} = (${aH} - (${a} === 0 ? 1 : 0)) | 0;`);
    } else if (s === 4) g.emit(`const ${r} = (${a} ${inc ? '+' : '-'} 1) | 0;`);
    else g.emit(`const ${r} = (${a} ${inc ? '+' : '-'} 1) & ${MASK[s]};`);
    if (i.isMem) g.store(s, al, ah, r, rh);
    g.produce(inc ? FlagOp.Inc : FlagOp.Dec, s, { a, ah: aH, b: '1', bh: '0', r, rh, cin });
    if (!i.isMem) g.set(i.rm, s, r, rh);
  },
});

translate(A.negRm, {
  flags: () => [0, ARITH_FLAGS],
  emit(g, i) {
    const s = i.opsize;
    let al = '', ah = '', a: string, aH: string;
    if (i.isMem) {
      [al, ah] = g.ea(i);
      [a, aH] = g.load(s, al, ah);
    } else {
      a = g.get(i.rm, s);
      aH = s === 8 ? g.hi(i.rm) : '0';
    }
    const res = alu(g, 5, s, '0', '0', a, aH);
    if (i.isMem) g.store(s, al, ah, res.r, res.rh);
    res.flags();
    if (!i.isMem) g.set(i.rm, s, res.r, res.rh);
  },
});

translate(A.notRm, {
  emit(g, i) {
    const s = i.opsize;
    if (i.isMem) {
      const [al, ah] = g.ea(i);
      const [a, aH] = g.load(s, al, ah);
      g.store(s, al, ah, `~${a}`, `~${aH}`);
      return;
    }
    const a = g.val(g.get(i.rm, s)), aH = s === 8 ? g.val(g.hi(i.rm)) : '0';
    g.set(i.rm, s, `~${a}`, `~${aH}`);
  },
});

/** imul reg, r/m[, imm]: CF = OF = the product does not fit; SF/ZF/PF from the truncated result, AF 0. */
translate(A.imulRegRm, {
  flags: () => [0, ARITH_FLAGS],
  emit(g, i) {
    const s = i.opsize;
    const [a, ah] = g.readRM(i, s);
    let b: string, bh: string;
    if (i.sub) {
      b = String(i.imm);
      bh = String(i.imm >> 31);
    } else {
      b = g.get(i.reg, s);
      bh = s === 8 ? g.hi(i.reg) : '0';
    }
    const need = g.live(ARITH_FLAGS);
    const r = g.t();
    switch (s) {
      case 2: {
        const p = g.t();
        g.emit(`const ${p} = ((${a} << 16) >> 16) * ((${b} << 16) >> 16), ${r} = ${p} & 65535;`);
        if (need) {
          const o = g.t();
          g.emit(`const ${o} = ${p} !== ((${p} << 16) >> 16) ? 1 : 0;`);
          g.produce(Res, 2, { r, cf: o, of: o });
        }
        g.set(i.reg, 2, r);
        return;
      }
      case 4: {
        g.emit(`const ${r} = Math.imul(${a}, ${b});`);
        if (need) {
          const o = g.t();
          g.emit(`const ${o} = mulhs32(${a}, ${b}) !== (${r} >> 31) ? 1 : 0;`);
          g.produce(Res, 4, { r, cf: o, of: o });
        }
        g.set(i.reg, 4, r);
        return;
      }
      default: {
        const rh = g.t();
        if (need) {
          const o = g.t();
          g.emit(`mul64s(${a}, ${ah}, ${b}, ${bh}); const ${r} = OUT[0], ${rh} = OUT[1], ${o} = ((OUT[2] ^ (${rh} >> 31)) | (OUT[3] ^ (${rh} >> 31))) !== 0 ? 1 : 0;`);
          g.produce(Res, 8, { r, rh, cf: o, of: o });
        } else {
          g.emit(`const ${r} = Math.imul(${a}, ${b}), ${rh} = (mulhu32(${a}, ${b}) + Math.imul(${a}, ${bh}) + Math.imul(${ah}, ${b})) | 0;`);
        }
        g.set(i.reg, 8, r, rh);
      }
    }
  },
});
