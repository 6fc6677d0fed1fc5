/**
 * Packed shifts: by an xmm/m128 count (the low 64 bits of slot B) or by an
 * immediate (groups 0F 71/72/73, which shift the r/m register in place).
 * Every shift function reads slot A and writes slot R.
 */
import type { ExecFn, Instr } from '../instr.js';
import { I16, S, U16, U8, type Kernel } from './scratch.js';

export type Shift = (n: number) => void;

export const psllw: Shift = (n) => { for (let k = 0; k < 8; k++) U16[16 + k] = n > 15 ? 0 : U16[k] << n; };
export const psrlw: Shift = (n) => { for (let k = 0; k < 8; k++) U16[16 + k] = n > 15 ? 0 : U16[k] >>> n; };
export const psraw: Shift = (n) => { const m = n > 15 ? 15 : n; for (let k = 0; k < 8; k++) I16[16 + k] = I16[k] >> m; };
export const pslld: Shift = (n) => { for (let k = 0; k < 4; k++) S[8 + k] = n > 31 ? 0 : S[k] << n; };
export const psrld: Shift = (n) => { for (let k = 0; k < 4; k++) S[8 + k] = n > 31 ? 0 : S[k] >>> n; };
export const psrad: Shift = (n) => { const m = n > 31 ? 31 : n; for (let k = 0; k < 4; k++) S[8 + k] = S[k] >> m; };
export const psllq: Shift = (n) => {
  for (let k = 0; k < 4; k += 2) {
    const lo = S[k], hi = S[k + 1];
    if (n > 63) { S[8 + k] = 0; S[9 + k] = 0; }
    else if (n >= 32) { S[8 + k] = 0; S[9 + k] = lo << (n - 32); }
    else if (n === 0) { S[8 + k] = lo; S[9 + k] = hi; }
    else { S[8 + k] = lo << n; S[9 + k] = (hi << n) | (lo >>> (32 - n)); }
  }
};
export const psrlq: Shift = (n) => {
  for (let k = 0; k < 4; k += 2) {
    const lo = S[k], hi = S[k + 1];
    if (n > 63) { S[8 + k] = 0; S[9 + k] = 0; }
    else if (n >= 32) { S[8 + k] = hi >>> (n - 32); S[9 + k] = 0; }
    else if (n === 0) { S[8 + k] = lo; S[9 + k] = hi; }
    else { S[8 + k] = (lo >>> n) | (hi << (32 - n)); S[9 + k] = hi >>> n; }
  }
};
export const pslldq: Shift = (n) => { for (let k = 0; k < 16; k++) U8[32 + k] = k >= n ? U8[k - n] : 0; };
export const psrldq: Shift = (n) => { for (let k = 0; k < 16; k++) U8[32 + k] = k + n < 16 ? U8[k + n] : 0; };

/** The shift count in slot B's low quadword, saturated to 255 (anything that large clears or fills). */
function countB(): number {
  return S[5] !== 0 || S[4] >>> 0 > 255 ? 255 : S[4];
}

/** psllw/… xmm, xmm/m128. */
export function byXmm(f: Shift): Kernel {
  return () => f(countB());
}

const byImmCache = new Map<Shift, ExecFn>();
/** psllw/… xmm, imm8: the register is ModRM.rm. One generated function per shift (see scratch.ts: monomorphic, inlinable). */
export function byImm(i: Instr, f: Shift): ExecFn | null {
  if (i.isMem) return null;
  let e = byImmCache.get(f);
  if (!e) {
    e = new Function('S', 'f', `return function sse_shift_imm(c, i) {
      const x = c.xmm, d = i.rm << 2;
      S[0] = x[d]; S[1] = x[d + 1]; S[2] = x[d + 2]; S[3] = x[d + 3];
      f(i.imm);
      x[d] = S[8]; x[d + 1] = S[9]; x[d + 2] = S[10]; x[d + 3] = S[11];
    };`)(S, f) as ExecFn;
    byImmCache.set(f, e);
  }
  return e;
}
