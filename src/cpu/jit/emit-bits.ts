/**
 * Bit scans and counts: bsf/bsr, tzcnt/lzcnt, popcnt (the semantics of
 * ops/bits.ts). bsf/bsr change only ZF and tzcnt/lzcnt only CF and ZF; when
 * no other flag can be observed before it is overwritten, the translation
 * records a producer whose ZF/CF are right (the rest is dead), otherwise it
 * goes through Cpu.setSomeFlags like the interpreter.
 */
import { ARITH_FLAGS, CF, FlagOp, ZF } from '../cpu.js';
import * as B from '../ops/bits.js';
import type { Emitter } from './emitter.js';
import { Res } from './flag-exprs.js';
import { translate } from './translator.js';

const ctz = (v: string) => `(31 - Math.clz32(${v} & -${v}))`;

/** Flags: only `mask` changes; the others keep their values. */
function partialFlags(g: Emitter, mask: number, zf: string, cf = '0'): void {
  if (!g.live(ARITH_FLAGS & ~mask)) {
    // Only the changed flags can be observed: any producer with the right ZF (and CF) will do.
    if (mask & CF) g.produce(Res, 4, { r: `(${zf} ? 0 : 1)`, cf: `(${cf} ? 1 : 0)`, of: '0' });
    else g.produce(FlagOp.Logic, 4, { r: `(${zf} ? 0 : 1)` });
    return;
  }
  g.syncFlags();
  g.emit(`c.setSomeFlags(${mask}, (${zf} ? ${ZF} : 0)${mask & CF ? ` | (${cf} ? ${CF} : 0)` : ''});`);
  g.flags = { kind: 'cpu' };
}

translate(B.bitScan, {
  flags: () => [0, ZF],
  emit(g, i) {
    const s = i.opsize;
    const [lo, hi] = g.readRM(i, s);
    const v = g.val(s === 2 ? `(${lo} & 65535)` : lo), h = s === 8 ? g.val(hi) : '0';
    const zero = g.val(`(${v} | ${h}) === 0`);
    // Zero source: the destination is left unchanged.
    const idx = i.sub === 0
      ? (s === 8 ? `(${v} !== 0 ? ${ctz(v)} : 32 + ${ctz(h)})` : ctz(v))
      : (s === 8 ? `(${h} !== 0 ? 63 - Math.clz32(${h}) : 31 - Math.clz32(${v}))` : `(31 - Math.clz32(${v}))`);
    partialFlags(g, ZF, zero);
    g.emit(`if (!${zero}) {`);
    g.set(i.reg, s, idx, '0');
    g.emit(`}`);
  },
});

translate(B.countZeros, {
  flags: () => [0, CF | ZF],
  emit(g, i) {
    const s = i.opsize, bits = s * 8;
    const [lo, hi] = g.readRM(i, s);
    const v = g.val(s === 2 ? `(${lo} & 65535)` : lo), h = s === 8 ? g.val(hi) : '0';
    let n: string;
    if (i.sub === 0) n = s === 8 ? `((${v} | ${h}) === 0 ? 64 : ${v} !== 0 ? ${ctz(v)} : 32 + ${ctz(h)})` : `(${v} === 0 ? ${bits} : ${ctz(v)})`;
    else n = s === 8 ? `(${h} !== 0 ? Math.clz32(${h}) : 32 + Math.clz32(${v}))` : `(Math.clz32(${v}) - ${32 - bits})`;
    const nv = g.val(n);
    partialFlags(g, CF | ZF, `${nv} === 0`, `${nv} === ${bits}`);
    g.set(i.reg, s, nv, '0');
  },
});

translate(B.popcnt, {
  flags: () => [0, ARITH_FLAGS],
  emit(g, i) {
    const s = i.opsize;
    const [lo, hi] = g.readRM(i, s);
    const pc = (x: string) => `POP(${x})`;
    const nv = g.val(s === 8 ? `(${pc(lo)} + ${pc(hi)})` : pc(s === 2 ? `(${lo} & 65535)` : lo));
    // ZF = source zero, every other arithmetic flag cleared.
    g.emit(`c.fop = 0; c.fexp = ${nv} === 0 ? ${ZF} : 0;`);
    g.flags = { kind: 'cpu' };
    g.set(i.reg, s, nv, '0');
  },
});
