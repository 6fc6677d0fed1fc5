/**
 * The constants of fld1/fldl2t/fldl2e/fldpi/fldlg2/fldln2/fldz. The
 * irrational ones are kept with 96 significand bits (plus "more nonzero bits
 * follow") and rounded to 64 bits with the current rounding control, as the
 * hardware does. Constant loads raise no precision exception and leave C1 = 0.
 */
import { fx, roundPack, EMAX80, PC64, setResult } from './softfloat.js';

// [unbiased exponent, hi, lo, next 32 bits] indexed by ModRM.rm of D9 E8+k.
const TABLE: number[][] = [
  [0, 0x80000000, 0, 0], // 1
  [1, 0xd49a784b, 0xcd1b8afe, 0x492bf6ff], // log2(10)
  [0, 0xb8aa3b29, 0x5c17f0bb, 0xbe87fed0], // log2(e)
  [1, 0xc90fdaa2, 0x2168c234, 0xc4c6628b], // pi
  [-2, 0x9a209a84, 0xfbcff798, 0x8f8959ac], // log10(2)
  [-1, 0xb17217f7, 0xd1cf79ab, 0xc9e3b398], // ln(2)
];

/** Loads constant k (0..6) rounded with rc into R. */
export function loadConstant(k: number, rc: number): void {
  if (k === 6) return setResult(0, 0, 0);
  const t = TABLE[k];
  const exc = fx.exc;
  // The 96-bit truncation is never exact for the irrationals: jam a sticky bit.
  roundPack(0, t[0] + 16383, t[1], t[2], k === 0 ? 0 : (t[3] | 1) >>> 0, PC64, rc, EMAX80);
  fx.exc = exc;
  fx.up = 0;
}

/** pi as [exponent, hi, lo, next] (used by fpatan special cases). */
export const PI_PARTS = TABLE[3];
