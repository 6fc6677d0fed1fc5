/** MXCSR bits. */
export const IE = 0x01, DE = 0x02, ZE = 0x04, OE = 0x08, UE = 0x10, PE = 0x20;
export const DAZ = 0x40;
export const RC_MASK = 0x6000, RC_SHIFT = 13;
export const FTZ = 0x8000;
/** Rounding-control values. */
export const RN = 0, RD = 1, RU = 2, RZ = 3;

/**
 * The float fast paths apply when MXCSR is "round to nearest, no FTZ/DAZ, PE
 * already raised": then a normal-range result needs no flag bookkeeping at all.
 * PE is sticky, so after a program's first inexact operation almost every
 * operation takes the fast path.
 */
export const FAST_MASK = RC_MASK | FTZ | DAZ | PE;
export const FAST_VALUE = PE;

export const MIN_NORMAL64 = 2.2250738585072014e-308;
export const MAX64 = 1.7976931348623157e308;
export const MIN_NORMAL32 = 1.1754943508222875e-38;
export const MAX32 = 3.4028234663852886e38;

/** Finite and normal or zero (double). */
export function norm64(x: number): boolean {
  const m = Math.abs(x);
  return (m >= MIN_NORMAL64 && m <= MAX64) || x === 0;
}
/** Finite and normal or zero (single, held in a double). */
export function norm32(x: number): boolean {
  const m = Math.abs(x);
  return (m >= MIN_NORMAL32 && m <= MAX32) || x === 0;
}

/**
 * A result that certainly did not underflow: zero, or strictly above the
 * smallest normal (a result rounded up to exactly the smallest normal may
 * still be "tiny", since SSE detects tininess with an unbounded exponent).
 */
export function res64(x: number): boolean {
  const m = Math.abs(x);
  return (m > MIN_NORMAL64 && m <= MAX64) || x === 0;
}
export function res32(x: number): boolean {
  const m = Math.abs(x);
  return (m > MIN_NORMAL32 && m <= MAX32) || x === 0;
}
