/**
 * String instructions: single movs/stos/lods become a load and/or store and
 * pointer updates by ±size (DF read at run time); rep movs/stos with a zero
 * count do nothing, and any other rep form is left to the interpreter's bulk
 * code (copyWithin / fill). musl's memcpy does both: `rep movsq` (often with
 * rcx = 0) and a byte loop of `movsb`.
 */
import { RAX, RCX, RDI, RSI } from '../cpu.js';
import { SEG_NONE, type Instr } from '../instr.js';
import * as S from '../ops/string.js';
import type { Emitter } from './emitter.js';
import { translate } from './translator.js';

/** The step (±size) as a const, from DF. */
function step(g: Emitter, size: number): string {
  return g.val(`(c.fother & 1024) !== 0 ? ${-size} : ${size}`);
}

/** reg += d (d an int32 const name, sign-extended to 64 bits). */
function advance(g: Emitter, reg: number, d: string): void {
  const [l, h] = g.add64(g.lo(reg), g.hi(reg), d, `(${d} >> 31)`);
  g.set(reg, 8, l, h);
}

/** Forms the translation handles: 64-bit addresses, no segment override on the source. */
const plain = (i: Instr): boolean => i.adsize === 8 && i.seg === SEG_NONE;

/** rep with a zero count: nothing at all happens (no access, no fault). Otherwise the interpreter runs it (bulk copy / fill). */
function rep(g: Emitter): void {
  g.emit(`if ((${g.lo(RCX)} | ${g.hi(RCX)}) !== 0) { ${g.slowExit()} }`);
}

translate(S.movs, {
  throws: () => true,
  emit(g, i) {
    if (!plain(i)) return false;
    if (i.rep) return rep(g);
    const s = i.opsize;
    const [v, vh] = g.load(s, g.lo(RSI), g.hi(RSI));
    g.store(s, g.lo(RDI), g.hi(RDI), v, vh);
    const d = step(g, s);
    advance(g, RSI, d);
    advance(g, RDI, d);
  },
});

translate(S.stos, {
  throws: () => true,
  emit(g, i) {
    if (!plain(i)) return false;
    if (i.rep) return rep(g);
    const s = i.opsize;
    g.store(s, g.lo(RDI), g.hi(RDI), g.get(RAX, s), s === 8 ? g.hi(RAX) : '0');
    advance(g, RDI, step(g, s));
  },
});

translate(S.lods, {
  throws: () => true,
  emit(g, i) {
    if (!plain(i) || i.rep) return false;
    const s = i.opsize;
    const [v, vh] = g.load(s, g.lo(RSI), g.hi(RSI));
    advance(g, RSI, step(g, s));
    g.set(RAX, s, v, vh);
  },
});
