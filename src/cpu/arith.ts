/**
 * Pure integer arithmetic helpers on int32 halves (no BigInt on the hot path).
 * Results that need two words return the low word and leave the high word in
 * the module-level `out` array, avoiding allocation.
 */

/** Scratch results: out[0..3] = words of the last wide result, low first. */
export const out = new Int32Array(4);

/** High 32 bits of the unsigned product of two uint32 values. */
export function mulhu32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

/** High 32 bits of the signed product of two int32 values. */
export function mulhs32(a: number, b: number): number {
  let h = mulhu32(a, b);
  if (a < 0) h = (h - b) | 0;
  if (b < 0) h = (h - a) | 0;
  return h;
}

/** Unsigned 64×64 → 128 multiply; result words in out[0..3]. */
export function mul64u(al: number, ah: number, bl: number, bh: number): void {
  // Schoolbook on 32-bit limbs; each partial is split into lo/hi words.
  const p0l = Math.imul(al, bl), p0h = mulhu32(al, bl);
  const p1l = Math.imul(al, bh), p1h = mulhu32(al, bh);
  const p2l = Math.imul(ah, bl), p2h = mulhu32(ah, bl);
  const p3l = Math.imul(ah, bh), p3h = mulhu32(ah, bh);
  out[0] = p0l;
  let w1 = (p0h >>> 0) + (p1l >>> 0) + (p2l >>> 0);
  out[1] = w1 | 0;
  let carry = Math.floor(w1 / 4294967296);
  let w2 = (p1h >>> 0) + (p2h >>> 0) + (p3l >>> 0) + carry;
  out[2] = w2 | 0;
  carry = Math.floor(w2 / 4294967296);
  out[3] = ((p3h >>> 0) + carry) | 0;
}

/** Signed 64×64 → 128 multiply; result words in out[0..3]. */
export function mul64s(al: number, ah: number, bl: number, bh: number): void {
  mul64u(al, ah, bl, bh);
  // Correct the high 64 bits: subtract b<<64 if a<0 and a<<64 if b<0.
  if (ah < 0) sub64hi(bl, bh);
  if (bh < 0) sub64hi(al, ah);
}
function sub64hi(l: number, h: number): void {
  const lo = ((out[2] >>> 0) - (l >>> 0));
  const borrow = lo < 0 ? 1 : 0;
  out[2] = lo | 0;
  out[3] = (out[3] - h - borrow) | 0;
}

export function big64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
export function bigS64(lo: number, hi: number): bigint {
  return BigInt.asIntN(64, big64(lo, hi));
}

/** Population count of an int32. */
export function popcnt32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Index of the lowest set bit (v != 0). */
export function ctz32(v: number): number {
  return 31 - Math.clz32(v & -v);
}
