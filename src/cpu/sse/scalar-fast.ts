/**
 * addsd/subsd/mulsd/divsd and the ss forms straight on the register file: the
 * common case (MXCSR in its fast state, normal operands and result — see
 * float-arith.ts) costs one arithmetic operation and a store. Anything else
 * falls back to the general exec function, which re-reads the operands into
 * the scratch slots and applies the full SSE rules. Reading a memory operand
 * twice on that path is harmless (no side effects).
 */
import type { ExecFn, Instr } from '../instr.js';
import { F32, F64, Src, binop, loader, type Kernel } from './scratch.js';
import { FAST_MASK, FAST_VALUE, norm32, norm64, res32, res64 } from './mxcsr.js';

export type ScalarOp = '+' | '-' | '*' | '/';

/** Extra conditions under which the fast result is certainly exact in its flags (see float-arith.ts). */
const GUARD: Record<ScalarOp, string> = {
  '+': '',
  '-': '',
  '*': ' && (r !== 0 || a === 0 || b === 0)',
  '/': ' && b !== 0 && (r !== 0 || a === 0)',
};

const cache = new Map<string, ExecFn>();

export function scalarFast(i: Instr, op: ScalarOp, single: boolean, kernel: Kernel): ExecFn {
  const general = binop(i, kernel, single ? Src.M32 : Src.M64);
  const key = `${op}|${single}|${i.isMem}`;
  let f = cache.get(key);
  if (!f) {
    const view = single ? 'xmmF32' : 'xmmF64', shift = single ? 2 : 1;
    const b = i.isMem ? `(load(c, i), ${single ? 'F32[4]' : 'F64[2]'})` : `v[i.rm << ${shift}]`;
    const r = single ? `Math.fround(a ${op} b)` : `a ${op} b`;
    const norm = single ? 'norm32' : 'norm64', res = single ? 'res32' : 'res64';
    const body = `
      const v = c.${view}, d = i.reg << ${shift};
      const a = v[d], b = ${b}, r = ${r};
      if ((c.mxcsr & ${FAST_MASK}) === ${FAST_VALUE} && ${res}(r) && ${norm}(a) && ${norm}(b)${GUARD[op]}) v[d] = r;
      else general(c, i);`;
    f = new Function('F32', 'F64', 'load', 'norm32', 'norm64', 'res32', 'res64', 'general', `return function sse_scalar(c, i) {${body}\n};`)(
      F32, F64, loader(i, single ? Src.M32 : Src.M64), norm32, norm64, res32, res64, general,
    ) as ExecFn;
    cache.set(key, f);
  }
  return f;
}
