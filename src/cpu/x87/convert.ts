/**
 * Conversions between 80-bit extended values and JS numbers, for display
 * (gdb, debugging). st80ToNumber rounds to the nearest double (values in the
 * double-denormal range may be rounded twice); numberToSt80 is exact.
 */
import { fromF64, fx, R } from './softfloat.js';

export function st80ToNumber(bytes: Uint8Array, off: number): number {
  const lo = (bytes[off] | (bytes[off + 1] << 8) | (bytes[off + 2] << 16) | (bytes[off + 3] << 24)) >>> 0;
  const hi = (bytes[off + 4] | (bytes[off + 5] << 8) | (bytes[off + 6] << 16) | (bytes[off + 7] << 24)) >>> 0;
  const se = bytes[off + 8] | (bytes[off + 9] << 8);
  const sign = se & 0x8000 ? -1 : 1;
  const e = se & 0x7fff;
  if (e === 0x7fff) return (hi & 0x7fffffff) === 0 && lo === 0 && hi !== 0 ? sign * Infinity : NaN;
  const frac = (hi * 4294967296 + lo) / 2 ** 63; // the significand as a number in [0, 2)
  const scale = (e === 0 ? 1 : e) - 16383;
  // Split the scaling so 2^scale never overflows/underflows on its own.
  const half = Math.trunc(scale / 2);
  return sign * frac * 2 ** half * 2 ** (scale - half);
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

export function numberToSt80(v: number, out: Uint8Array, off: number): void {
  f64[0] = v;
  const exc = fx.exc;
  fromF64(u32[0] | 0, u32[1] | 0);
  fx.exc = exc;
  const { se, hi, lo } = R;
  for (let k = 0; k < 4; k++) {
    out[off + k] = (lo >>> (8 * k)) & 0xff;
    out[off + 4 + k] = (hi >>> (8 * k)) & 0xff;
  }
  out[off + 8] = se & 0xff;
  out[off + 9] = se >>> 8;
}
