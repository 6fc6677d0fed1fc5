/**
 * The one tolerated register difference of the lockstep differ: elfshim's
 * x87 transcendentals are correctly rounded, the hardware's are not always
 * (AMD and Intel each round their own way, and not documentedly). After
 * f2xm1, fyl2x, fyl2xp1, fptan, fpatan, fsin, fcos or fsincos — and only
 * then — a result register (st0, st1) may be 1 ulp away from the native one
 * and C1 (the x87 "rounded up" bit) may differ; everything else must be
 * equal. The differ then gives elfshim the native values and goes on, and
 * counts it in its summary (docs/ARCHITECTURE.md, known differences).
 */
import type { RegisterDifference } from './compare.js';
import type { Registers } from './side.js';

/** D9 xx register forms that are transcendental. */
const NAMES: Record<number, string> = { 0xf0: 'f2xm1', 0xf1: 'fyl2x', 0xf2: 'fptan', 0xf3: 'fpatan', 0xf9: 'fyl2xp1', 0xfb: 'fsincos', 0xfe: 'fsin', 0xff: 'fcos' };
const C1 = 0x200;

/** The mnemonic when the instruction bytes (prefixes allowed) are an x87 transcendental, else null. */
export function transcendentalName(bytes: Uint8Array): string | null {
  let k = 0;
  while (k < bytes.length && (bytes[k] === 0x66 || bytes[k] === 0xf2 || bytes[k] === 0xf3 || (bytes[k] & 0xf0) === 0x40)) k++;
  return bytes[k] === 0xd9 ? NAMES[bytes[k + 1]] ?? null : null;
}

/** An 80-bit value's place on the number line of its sign: consecutive values differ by one. */
function ordinal(b: Uint8Array): { sign: number; ord: bigint } {
  let m = 0n;
  for (let k = 7; k >= 0; k--) m = (m << 8n) | BigInt(b[k]);
  const se = b[8] | (b[9] << 8);
  // The explicit integer bit is implied by the exponent for normals, so only the fraction counts.
  return { sign: se >> 15, ord: (BigInt(se & 0x7fff) << 63n) | (m & ((1n << 63n) - 1n)) };
}

/** Are the differences only ≤ 1 ulp in st0/st1 and C1? */
export function withinTranscendentalTolerance(diffs: RegisterDifference[], n: Registers, e: Registers): boolean {
  if (!diffs.length) return false;
  for (const d of diffs) {
    if (d.name === 'fstat') {
      if ((n.num('fstat') ^ e.num('fstat')) !== C1) return false;
    } else if (d.name === 'st0' || d.name === 'st1') {
      const a = ordinal(n.raw(d.name)), b = ordinal(e.raw(d.name));
      const exp = (r: Uint8Array): number => (r[8] | (r[9] << 8)) & 0x7fff;
      if (a.sign !== b.sign || exp(n.raw(d.name)) === 0x7fff || exp(e.raw(d.name)) === 0x7fff) return false;
      const gap = a.ord > b.ord ? a.ord - b.ord : b.ord - a.ord;
      if (gap > 1n) return false;
    } else return false;
  }
  return true;
}
