/**
 * 64-bit shifts and bit gathering on int32 halves for the BMI instructions.
 * Each function returns the low half and leaves the high half in `hi64.v`.
 */
export const hi64 = { v: 0 };

/** (lo, hi) << n, 0 ≤ n < 64. */
export function shl64(lo: number, hi: number, n: number): number {
  if (n === 0) { hi64.v = hi; return lo; }
  if (n < 32) { hi64.v = (hi << n) | (lo >>> (32 - n)); return lo << n; }
  hi64.v = lo << (n - 32);
  return 0;
}

/** (lo, hi) >>> n (logical), 0 ≤ n < 64. */
export function shr64(lo: number, hi: number, n: number): number {
  if (n === 0) { hi64.v = hi; return lo; }
  if (n < 32) { hi64.v = hi >>> n; return (lo >>> n) | (hi << (32 - n)); }
  hi64.v = 0;
  return hi >>> (n - 32);
}

/** (lo, hi) >> n (arithmetic), 0 ≤ n < 64. */
export function sar64(lo: number, hi: number, n: number): number {
  if (n === 0) { hi64.v = hi; return lo; }
  if (n < 32) { hi64.v = hi >> n; return (lo >>> n) | (hi << (32 - n)); }
  hi64.v = hi >> 31;
  return hi >> (n - 32);
}

/** Rotate right by n, 0 ≤ n < 64. */
export function ror64(lo: number, hi: number, n: number): number {
  if (n === 0) { hi64.v = hi; return lo; }
  if (n === 32) { hi64.v = lo; return hi; }
  if (n < 32) { hi64.v = (hi >>> n) | (lo << (32 - n)); return (lo >>> n) | (hi << (32 - n)); }
  const k = n - 32;
  hi64.v = (lo >>> k) | (hi << (32 - k));
  return (hi >>> k) | (lo << (32 - k));
}

/** Parallel bit extract of a 32-bit word: the bits of src selected by mask, packed low; k = first output bit. Returns the packed bits shifted to k in a 64-bit (lo, hi) accumulator. */
function gather(src: number, mask: number, k: number, acc: Int32Array): number {
  while (mask !== 0) {
    const bit = mask & -mask;
    if (src & bit) {
      if (k < 32) acc[0] |= 1 << k;
      else acc[1] |= 1 << (k - 32);
    }
    k++;
    mask &= mask - 1;
  }
  return k;
}

const acc = new Int32Array(2);

/** pext: the bits of (srcLo, srcHi) where (maskLo, maskHi) is set, packed into the low bits. */
export function pext64(srcLo: number, srcHi: number, maskLo: number, maskHi: number): number {
  acc[0] = 0;
  acc[1] = 0;
  const k = gather(srcLo, maskLo, 0, acc);
  gather(srcHi, maskHi, k, acc);
  hi64.v = acc[1];
  return acc[0];
}

/** pdep: the low bits of (srcLo, srcHi), deposited in order at the set bits of (maskLo, maskHi). */
export function pdep64(srcLo: number, srcHi: number, maskLo: number, maskHi: number): number {
  let k = 0, lo = 0, hi = 0;
  for (let m = maskLo; m !== 0; m &= m - 1, k++) {
    const take = k < 32 ? (srcLo >>> k) & 1 : (srcHi >>> (k - 32)) & 1;
    if (take) lo |= m & -m;
  }
  for (let m = maskHi; m !== 0; m &= m - 1, k++) {
    const take = k < 32 ? (srcLo >>> k) & 1 : (srcHi >>> (k - 32)) & 1;
    if (take) hi |= m & -m;
  }
  hi64.v = hi;
  return lo;
}
