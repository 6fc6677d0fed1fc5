/**
 * Packed integer operations that are not element-wise (those are expressions
 * in table.ts, run by lanewise.ts): 64-bit lanes, widening multiplies,
 * horizontal and sum-of-differences ops, ptest. They work on the scratch slots.
 * Byte index: A 0..15, B 16..31, R 32..47; word: A 0..7, B 8..15, R 16..23;
 * dword: A 0..3, B 4..7, R 8..11 (X, the fourth slot, follows each).
 */
import { CF, ZF } from '../cpu.js';
import { I16, I8, S, U16, U8, type Kernel } from './scratch.js';

const sat8s = (v: number): number => (v > 127 ? 127 : v < -128 ? -128 : v);
const sat8u = (v: number): number => (v > 255 ? 255 : v < 0 ? 0 : v);
const sat16s = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
const sat16u = (v: number): number => (v > 65535 ? 65535 : v < 0 ? 0 : v);
export { sat8s, sat8u, sat16s, sat16u };

// ------------------------------------------------------------------ add / sub

export const paddq: Kernel = () => {
  for (let k = 0; k < 4; k += 2) {
    const l = (S[k] >>> 0) + (S[4 + k] >>> 0);
    S[8 + k] = l | 0;
    S[9 + k] = (S[1 + k] + S[5 + k] + (l > 0xffffffff ? 1 : 0)) | 0;
  }
};
export const psubq: Kernel = () => {
  for (let k = 0; k < 4; k += 2) {
    const l = (S[k] >>> 0) - (S[4 + k] >>> 0);
    S[8 + k] = l | 0;
    S[9 + k] = (S[1 + k] - S[5 + k] - (l < 0 ? 1 : 0)) | 0;
  }
};

// ------------------------------------------------------------------ multiply

export const pmaddwd: Kernel = () => {
  for (let k = 0; k < 4; k++) S[8 + k] = (I16[2 * k] * I16[8 + 2 * k] + I16[2 * k + 1] * I16[9 + 2 * k]) | 0;
};
export const pmaddubsw: Kernel = () => {
  for (let k = 0; k < 8; k++) I16[16 + k] = sat16s(U8[2 * k] * I8[16 + 2 * k] + U8[2 * k + 1] * I8[17 + 2 * k]);
};

let mulHi = 0;
/** Unsigned 32×32 → 64: low half returned, high half in mulHi. */
function mulU32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  mulHi = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
  return ((mid << 16) | (p00 & 0xffff)) | 0;
}
export const pmuludq: Kernel = () => {
  for (let k = 0; k < 4; k += 2) {
    S[8 + k] = mulU32(S[k] >>> 0, S[4 + k] >>> 0);
    S[9 + k] = mulHi;
  }
};
export const pmuldq: Kernel = () => {
  for (let k = 0; k < 4; k += 2) {
    const a = S[k], b = S[4 + k];
    S[8 + k] = mulU32(a >>> 0, b >>> 0);
    S[9 + k] = (mulHi - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
  }
};

// ------------------------------------------------------------------ sums of differences, minimum position

export const psadbw: Kernel = () => {
  for (let lane = 0; lane < 16; lane += 8) {
    let s = 0;
    for (let k = lane; k < lane + 8; k++) s += Math.abs(U8[k] - U8[16 + k]);
    const r = 8 + (lane >> 2);
    S[r] = s;
    S[r + 1] = 0;
  }
};

/** phminposuw: the smallest unsigned word of the source and its (lowest) index. */
export const phminposuw: Kernel = () => {
  let m = U16[8], at = 0;
  for (let k = 1; k < 8; k++) if (U16[8 + k] < m) { m = U16[8 + k]; at = k; }
  S[8] = m | (at << 16);
  S[9] = 0; S[10] = 0; S[11] = 0;
};

/** mpsadbw: eight sums of absolute differences of 4-byte groups; imm[2] picks the dest offset, imm[1:0] the source block. */
export const mpsadbw: Kernel = (c, i) => {
  const ao = i.imm & 4, bo = 16 + (i.imm & 3) * 4;
  for (let k = 0; k < 8; k++) {
    let s = 0;
    for (let t = 0; t < 4; t++) s += Math.abs(U8[ao + k + t] - U8[bo + t]);
    U16[16 + k] = s;
  }
};

// ------------------------------------------------------------------ compare

export const pcmpeqq: Kernel = () => {
  for (let k = 0; k < 4; k += 2) S[8 + k] = S[9 + k] = S[k] === S[4 + k] && S[k + 1] === S[5 + k] ? -1 : 0;
};
export const pcmpgtq: Kernel = () => {
  for (let k = 0; k < 4; k += 2) {
    const ah = S[k + 1], bh = S[5 + k];
    const gt = ah > bh || (ah === bh && S[k] >>> 0 > S[4 + k] >>> 0);
    S[8 + k] = S[9 + k] = gt ? -1 : 0;
  }
};

// ------------------------------------------------------------------ SSSE3 horizontal add / subtract

export const phaddw: Kernel = () => {
  for (let k = 0; k < 4; k++) {
    U16[16 + k] = U16[2 * k] + U16[2 * k + 1];
    U16[20 + k] = U16[8 + 2 * k] + U16[9 + 2 * k];
  }
};
export const phsubw: Kernel = () => {
  for (let k = 0; k < 4; k++) {
    U16[16 + k] = U16[2 * k] - U16[2 * k + 1];
    U16[20 + k] = U16[8 + 2 * k] - U16[9 + 2 * k];
  }
};
export const phaddsw: Kernel = () => {
  for (let k = 0; k < 4; k++) {
    I16[16 + k] = sat16s(I16[2 * k] + I16[2 * k + 1]);
    I16[20 + k] = sat16s(I16[8 + 2 * k] + I16[9 + 2 * k]);
  }
};
export const phsubsw: Kernel = () => {
  for (let k = 0; k < 4; k++) {
    I16[16 + k] = sat16s(I16[2 * k] - I16[2 * k + 1]);
    I16[20 + k] = sat16s(I16[8 + 2 * k] - I16[9 + 2 * k]);
  }
};
export const phaddd: Kernel = () => {
  S[8] = (S[0] + S[1]) | 0; S[9] = (S[2] + S[3]) | 0; S[10] = (S[4] + S[5]) | 0; S[11] = (S[6] + S[7]) | 0;
};
export const phsubd: Kernel = () => {
  S[8] = (S[0] - S[1]) | 0; S[9] = (S[2] - S[3]) | 0; S[10] = (S[4] - S[5]) | 0; S[11] = (S[6] - S[7]) | 0;
};

// ------------------------------------------------------------------ ptest

/** ptest: ZF = (A & B) == 0, CF = (~A & B) == 0; the other arithmetic flags are cleared. */
export const ptest: Kernel = (c) => {
  let and = 0, andn = 0;
  for (let k = 0; k < 4; k++) { and |= S[k] & S[4 + k]; andn |= ~S[k] & S[4 + k]; }
  // fother holds no arithmetic bits: this replaces exactly the six arithmetic flags.
  c.setEflags(c.fother | (and === 0 ? ZF : 0) | (andn === 0 ? CF : 0));
};
