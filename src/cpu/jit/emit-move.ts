/** Translations of data movement: mov forms, lea, movzx/movsx, xchg, cmov, setcc, push/pop, leave, cbw/cwd, bswap, nop. */
import { RAX, RBP, RDX, RSP } from '../cpu.js';
import type { Instr } from '../instr.js';
import * as M from '../ops/move.js';
import * as Y from '../ops/system.js';
import type { Emitter } from './emitter.js';
import { condReads } from './flag-exprs.js';
import { translate } from './translator.js';

/** rsp - 8 as two consts. */
export function pushAddr(g: Emitter): [string, string] {
  const l = g.t(), h = g.t(), sl = g.lo(RSP), sh = g.hi(RSP);
  g.noteAddress(l, h, RSP, -8, g.out.length);
  g.emit(`const ${l} = (${sl} - 8) | 0, ${h} = (${sl} >>> 0) < 8 ? (${sh} - 1) | 0 : ${sh};`);
  return [l, h];
}
/** push of a 64-bit value: the store first (it may fault), then rsp. */
export function push64(g: Emitter, v: string, vh: string): void {
  const [l, h] = pushAddr(g);
  g.store(8, l, h, v, vh);
  const was = g.version(RSP);
  g.set(RSP, 8, l, h);
  g.rebase(RSP, was, -8);
}
/** pop of a 64-bit value: returns the loaded halves; rsp is updated. */
export function pop64(g: Emitter, extra = 0): [string, string] {
  const [v, vh] = g.load(8, g.lo(RSP), g.hi(RSP));
  const [l, h] = g.addConst64(g.lo(RSP), g.hi(RSP), 8 + extra);
  const was = g.version(RSP);
  g.set(RSP, 8, l, h);
  g.rebase(RSP, was, 8 + extra);
  return [v, vh];
}

const noFlags = (): [number, number] => [0, 0];
const alwaysThrows = (): boolean => true;

translate(M.movRmReg, {
  emit(g, i) {
    const s = i.opsize;
    const v = g.get(i.reg, s), vh = s === 8 ? g.hi(i.reg) : '0';
    if (i.isMem) {
      const [al, ah] = g.ea(i);
      g.store(s, al, ah, v, vh);
    } else g.set(i.rm, s, v, vh);
  },
});
translate(M.movRegRm, {
  emit(g, i) {
    const [v, vh] = g.readRM(i, i.opsize);
    g.set(i.reg, i.opsize, v, vh);
  },
});
translate(M.mov64RegReg, {
  emit(g, i) {
    g.set(i.rm, 8, g.lo(i.reg), g.hi(i.reg));
  },
});
translate(M.mov64RegMem, {
  emit(g, i) {
    const [al, ah] = g.ea(i);
    const [v, vh] = g.load(8, al, ah);
    g.set(i.reg, 8, v, vh);
  },
});
translate(M.mov64MemReg, {
  emit(g, i) {
    const [al, ah] = g.ea(i);
    g.store(8, al, ah, g.lo(i.reg), g.hi(i.reg));
  },
});
translate(M.mov32RegMem, {
  emit(g, i) {
    const [al, ah] = g.ea(i);
    const [v] = g.load(4, al, ah);
    g.set(i.reg, 4, v);
  },
});
translate(M.mov32MemReg, {
  emit(g, i) {
    const [al, ah] = g.ea(i);
    g.store(4, al, ah, g.lo(i.reg));
  },
});
translate(M.movRmImm, {
  emit(g, i) {
    const s = i.opsize;
    if (i.isMem) {
      const [al, ah] = g.ea(i);
      g.store(s, al, ah, String(i.imm), String(i.imm >> 31));
    } else g.set(i.rm, s, String(i.imm), String(i.imm >> 31));
  },
});
translate(M.movRegImm, {
  emit(g, i) {
    g.set(i.rm, i.opsize, String(i.imm), String(i.immHi));
  },
});

translate(M.lea, {
  throws: () => false,
  emit(g, i) {
    if (i.opsize === 8 && i.adsize === 8) {
      const [l, h] = g.ea(i, true);
      g.set(i.reg, 8, l, h);
      return;
    }
    // 32/16-bit results: int32 arithmetic on the low halves.
    let v = String(i.disp | 0);
    if (i.base >= 0) v = `((${v}) + ${g.lo(i.base)}) | 0`;
    if (i.index >= 0) v = `((${v}) + (${g.lo(i.index)} << ${i.scale})) | 0`;
    g.set(i.reg, i.opsize === 2 ? 2 : 4, g.val(v));
  },
});

translate(M.movzx, {
  emit(g, i) {
    const [v] = g.readRM(i, i.sub);
    g.set(i.reg, i.opsize, v, '0');
  },
});
translate(M.movsx, {
  emit(g, i) {
    let [v] = g.readRM(i, i.sub);
    if (i.sub === 1) v = `((${v} << 24) >> 24)`;
    else if (i.sub === 2) v = `((${v} << 16) >> 16)`;
    const sv = g.val(v);
    g.set(i.reg, i.opsize, sv, `${sv} >> 31`);
  },
});

translate(M.xchg, {
  emit(g, i) {
    const s = i.opsize;
    const b = g.val(g.get(i.reg, s)), bh = s === 8 ? g.val(g.hi(i.reg)) : '0';
    if (i.isMem) {
      const [al, ah] = g.ea(i);
      const [a, aH] = g.load(s, al, ah);
      g.store(s, al, ah, b, bh);
      g.set(i.reg, s, a, aH);
    } else {
      const a = g.val(g.get(i.rm, s)), aH = s === 8 ? g.val(g.hi(i.rm)) : '0';
      g.set(i.rm, s, b, bh);
      g.set(i.reg, s, a, aH);
    }
  },
});

translate(M.cmov, {
  flags: (i) => [condReads(i.sub), 0],
  emit(g, i) {
    const s = i.opsize;
    const [v, vh] = g.readRM(i, s);
    g.emit(`if (${g.cond(i.sub)}) {`);
    g.set(i.reg, s, v, vh);
    if (s === 4) {
      g.emit(`} else {`);
      g.markWritten(i.reg);
      g.emit(`${g.hi(i.reg)} = 0;`);
    }
    g.emit(`}`);
  },
});
translate(M.setcc, {
  flags: (i) => [condReads(i.sub), 0],
  emit(g, i) {
    const v = g.val(`(${g.cond(i.sub)} ? 1 : 0)`);
    if (i.isMem) {
      const [al, ah] = g.ea(i);
      g.store(1, al, ah, v);
    } else g.set(i.rm, 1, v);
  },
});

translate(M.cbwFamily, {
  emit(g, i) {
    const a = g.lo(RAX);
    if (i.opsize === 8) g.set(RAX, 8, a, `${a} >> 31`);
    else if (i.opsize === 4) g.set(RAX, 4, g.val(`(${a} << 16) >> 16`));
    else g.set(RAX, 2, `(${a} << 24) >> 24`);
  },
});
translate(M.cwdFamily, {
  emit(g, i) {
    if (i.opsize === 8) {
      const sgn = g.val(`${g.hi(RAX)} >> 31`);
      g.set(RDX, 8, sgn, sgn);
    } else if (i.opsize === 4) g.set(RDX, 4, g.val(`${g.lo(RAX)} >> 31`));
    else g.set(RDX, 2, `(${g.lo(RAX)} << 16) >> 31`);
  },
});

translate(M.pushReg, {
  throws: alwaysThrows,
  emit(g, i) {
    if (i.opsize === 2) return false;
    push64(g, g.val(g.lo(i.rm)), g.val(g.hi(i.rm)));
  },
});
translate(M.popReg, {
  throws: alwaysThrows,
  emit(g, i) {
    if (i.opsize === 2) return false;
    const [v, vh] = pop64(g);
    g.set(i.rm, 8, v, vh);
  },
});
translate(M.pushImm, {
  throws: alwaysThrows,
  emit(g, i) {
    if (i.opsize === 2) return false;
    push64(g, String(i.imm), String(i.imm >> 31));
  },
});
translate(M.pushRm, {
  throws: alwaysThrows,
  emit(g, i) {
    if (i.opsize === 2) return false;
    const [v, vh] = g.readRM(i, 8);
    push64(g, g.val(v), g.val(vh));
  },
});
translate(M.leave, {
  throws: alwaysThrows,
  emit(g) {
    const bl = g.lo(RBP), bh = g.hi(RBP);
    const [v, vh] = g.load(8, bl, bh);
    const [l, h] = g.addConst64(bl, bh, 8);
    g.set(RSP, 8, l, h);
    g.set(RBP, 8, v, vh);
  },
});

translate(Y.nop, {
  throws: () => false,
  flags: noFlags,
  emit() {},
});

translate(M.bswap, {
  emit(g, i) {
    const sw = (v: string) => `(((${v} & 255) << 24) | ((${v} & 65280) << 8) | ((${v} >>> 8) & 65280) | (${v} >>> 24))`;
    const n = i.rm;
    if (i.opsize === 8) g.set(n, 8, sw(g.hi(n)), sw(g.lo(n)));
    else if (i.opsize === 4) g.set(n, 4, g.val(sw(g.lo(n))));
    else g.set(n, 2, '0');
  },
});

export type { Instr };
