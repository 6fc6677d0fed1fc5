/** Translations of the control transfers that end a block: jmp, jcc, call, ret (direct and indirect). */
import * as C from '../ops/control.js';
import { condReads } from './flag-exprs.js';
import { pop64, push64 } from './emit-move.js';
import type { Emitter } from './emitter.js';
import { translate } from './translator.js';

const alwaysThrows = (): boolean => true;

/** The double guest address of a 64-bit value held in two int32 halves. */
function addrOf(g: Emitter, lo: string, hi: string): string {
  return g.val(`${hi} * 4294967296 + (${lo} >>> 0)`);
}

translate(C.jmpRel, {
  throws: () => false,
  emit: (_g, i) => ({ kind: 'jump', target: i.target }),
});
translate(C.jcc, {
  throws: () => false,
  flags: (i) => [condReads(i.sub), 0],
  emit: (g, i) => ({ kind: 'cond', cond: g.cond(i.sub), target: i.target, next: i.next }),
});
translate(C.callRel, {
  throws: alwaysThrows,
  emit(g, i) {
    push64(g, String(i.next | 0), String(Math.floor(i.next / 4294967296) | 0));
    return { kind: 'jump', target: i.target };
  },
});
translate(C.ret, {
  throws: alwaysThrows,
  emit(g, i) {
    const [v, vh] = pop64(g, i.imm);
    return { kind: 'indirect', expr: addrOf(g, v, vh) };
  },
});
translate(C.jmpRm, {
  emit(g, i) {
    const [v, vh] = g.readRM(i, 8);
    return { kind: 'indirect', expr: addrOf(g, v, vh) };
  },
});
translate(C.callRm, {
  throws: alwaysThrows,
  emit(g, i) {
    const [v, vh] = g.readRM(i, 8);
    const t = addrOf(g, v, vh);
    push64(g, String(i.next | 0), String(Math.floor(i.next / 4294967296) | 0));
    return { kind: 'indirect', expr: t };
  },
});
