/**
 * Element-wise integer operations (result element k depends only on element k
 * of both operands) as exec functions that work on the xmm registers in place,
 * without the scratch round trip. Each is generated from a one-line
 * expression with new Function, once per (lane type, expression, operand
 * form), so V8 compiles a tight, monomorphic loop for it.
 */
import type { ExecFn, Instr } from '../instr.js';
import { S, Src, U16, U8, loader } from './scratch.js';
import { sat16s, sat16u, sat8s, sat8u } from './int-arith.js';

export type Lane = 'u8' | 's8' | 'u16' | 's16' | 'i32' | 'u32';

interface LaneInfo {
  /** Cpu view over all xmm registers. */
  view: string;
  /** Scratch view and the index of slot B in it (memory operands are loaded there). */
  scratch: string;
  b: number;
  count: number;
  shift: number;
  /** Reads an element as the operation sees it. */
  read: (e: string) => string;
}
const LANES: Record<Lane, LaneInfo> = {
  u8: { view: 'xmmU8', scratch: 'U8', b: 16, count: 16, shift: 4, read: (e) => e },
  s8: { view: 'xmmU8', scratch: 'U8', b: 16, count: 16, shift: 4, read: (e) => `((${e} << 24) >> 24)` },
  u16: { view: 'xmmU16', scratch: 'U16', b: 8, count: 8, shift: 3, read: (e) => e },
  s16: { view: 'xmmU16', scratch: 'U16', b: 8, count: 8, shift: 3, read: (e) => `((${e} << 16) >> 16)` },
  i32: { view: 'xmm', scratch: 'S', b: 4, count: 4, shift: 2, read: (e) => e },
  u32: { view: 'xmm', scratch: 'S', b: 4, count: 4, shift: 2, read: (e) => `(${e} >>> 0)` },
};

const cache = new Map<string, ExecFn>();

/**
 * dest[k] = expr(a = dest[k], b = src[k]) for every element; the expression
 * may use sat8s/sat8u/sat16s/sat16u and Math. Stores wrap to the lane width.
 */
export function lanewise(i: Instr, lane: Lane, expr: string): ExecFn {
  const key = `${lane}|${expr}|${i.isMem}`;
  let f = cache.get(key);
  if (!f) {
    const L = LANES[lane];
    const src = i.isMem ? `${L.scratch}[${L.b} + k]` : 'v[s + k]';
    const body = `
      const v = c.${L.view}, d = i.reg << ${L.shift};
      ${i.isMem ? 'load(c, i);' : `const s = i.rm << ${L.shift};`}
      for (let k = 0; k < ${L.count}; k++) {
        const a = ${L.read('v[d + k]')}, b = ${L.read(src)};
        v[d + k] = ${expr};
      }`;
    f = new Function('S', 'U8', 'U16', 'load', 'sat8s', 'sat8u', 'sat16s', 'sat16u', `return function sse_lanewise(c, i) {${body}\n};`)(
      S, U8, U16, loader(i, Src.M128A), sat8s, sat8u, sat16s, sat16u,
    ) as ExecFn;
    cache.set(key, f);
  }
  return f;
}
