/**
 * Data rearrangement: unpack, pack, shuffles, byte alignment, blends,
 * sign/zero extension, duplicates. Kernels read slots A/B (and X) and write R.
 */
import { I16, I8, S, U16, U8, type Kernel } from './scratch.js';
import { sat16s, sat16u, sat8s, sat8u } from './int-arith.js';

// ------------------------------------------------------------------ unpack (interleave)

export const punpcklbw: Kernel = () => { for (let k = 0; k < 8; k++) { U8[32 + 2 * k] = U8[k]; U8[33 + 2 * k] = U8[16 + k]; } };
export const punpckhbw: Kernel = () => { for (let k = 0; k < 8; k++) { U8[32 + 2 * k] = U8[8 + k]; U8[33 + 2 * k] = U8[24 + k]; } };
export const punpcklwd: Kernel = () => { for (let k = 0; k < 4; k++) { U16[16 + 2 * k] = U16[k]; U16[17 + 2 * k] = U16[8 + k]; } };
export const punpckhwd: Kernel = () => { for (let k = 0; k < 4; k++) { U16[16 + 2 * k] = U16[4 + k]; U16[17 + 2 * k] = U16[12 + k]; } };
export const punpckldq: Kernel = () => { S[8] = S[0]; S[9] = S[4]; S[10] = S[1]; S[11] = S[5]; };
export const punpckhdq: Kernel = () => { S[8] = S[2]; S[9] = S[6]; S[10] = S[3]; S[11] = S[7]; };
export const punpcklqdq: Kernel = () => { S[8] = S[0]; S[9] = S[1]; S[10] = S[4]; S[11] = S[5]; };
export const punpckhqdq: Kernel = () => { S[8] = S[2]; S[9] = S[3]; S[10] = S[6]; S[11] = S[7]; };

// ------------------------------------------------------------------ pack with saturation

export const packsswb: Kernel = () => { for (let k = 0; k < 8; k++) { I8[32 + k] = sat8s(I16[k]); I8[40 + k] = sat8s(I16[8 + k]); } };
export const packuswb: Kernel = () => { for (let k = 0; k < 8; k++) { U8[32 + k] = sat8u(I16[k]); U8[40 + k] = sat8u(I16[8 + k]); } };
export const packssdw: Kernel = () => { for (let k = 0; k < 4; k++) { I16[16 + k] = sat16s(S[k]); I16[20 + k] = sat16s(S[4 + k]); } };
export const packusdw: Kernel = () => { for (let k = 0; k < 4; k++) { U16[16 + k] = sat16u(S[k]); U16[20 + k] = sat16u(S[4 + k]); } };

// ------------------------------------------------------------------ shuffles

export const pshufd: Kernel = (c, i) => { const m = i.imm; for (let k = 0; k < 4; k++) S[8 + k] = S[4 + ((m >> (2 * k)) & 3)]; };
export const pshuflw: Kernel = (c, i) => {
  const m = i.imm;
  for (let k = 0; k < 4; k++) U16[16 + k] = U16[8 + ((m >> (2 * k)) & 3)];
  S[10] = S[6]; S[11] = S[7];
};
export const pshufhw: Kernel = (c, i) => {
  const m = i.imm;
  S[8] = S[4]; S[9] = S[5];
  for (let k = 0; k < 4; k++) U16[20 + k] = U16[12 + ((m >> (2 * k)) & 3)];
};
export const shufps: Kernel = (c, i) => {
  const m = i.imm;
  S[8] = S[m & 3]; S[9] = S[(m >> 2) & 3]; S[10] = S[4 + ((m >> 4) & 3)]; S[11] = S[4 + ((m >> 6) & 3)];
};
export const shufpd: Kernel = (c, i) => {
  const a = (i.imm & 1) << 1, b = 4 + (i.imm & 2);
  S[8] = S[a]; S[9] = S[a + 1]; S[10] = S[b]; S[11] = S[b + 1];
};
export const pshufb: Kernel = () => {
  for (let k = 0; k < 16; k++) { const s = U8[16 + k]; U8[32 + k] = s & 0x80 ? 0 : U8[s & 15]; }
};
/** palignr: bytes imm.. of the 32-byte concatenation dest:src (src low). */
export const palignr: Kernel = (c, i) => {
  const n = i.imm;
  for (let k = 0; k < 16; k++) { const j = k + n; U8[32 + k] = j < 16 ? U8[16 + j] : j < 32 ? U8[j - 16] : 0; }
};

export const movsldup: Kernel = () => { S[8] = S[9] = S[4]; S[10] = S[11] = S[6]; };
export const movshdup: Kernel = () => { S[8] = S[9] = S[5]; S[10] = S[11] = S[7]; };
export const movddup: Kernel = () => { S[8] = S[10] = S[4]; S[9] = S[11] = S[5]; };

// ------------------------------------------------------------------ blends

export const pblendw: Kernel = (c, i) => { for (let k = 0; k < 8; k++) U16[16 + k] = i.imm & (1 << k) ? U16[8 + k] : U16[k]; };
export const blendps: Kernel = (c, i) => { for (let k = 0; k < 4; k++) S[8 + k] = i.imm & (1 << k) ? S[4 + k] : S[k]; };
export const blendpd: Kernel = (c, i) => {
  for (let k = 0; k < 2; k++) { const s = i.imm & (1 << k) ? 4 : 0; S[8 + 2 * k] = S[s + 2 * k]; S[9 + 2 * k] = S[s + 2 * k + 1]; }
};
/** Variable blends: the mask is xmm0, loaded into slot X. */
export const pblendvb: Kernel = () => { for (let k = 0; k < 16; k++) U8[32 + k] = U8[48 + k] & 0x80 ? U8[16 + k] : U8[k]; };
export const blendvps: Kernel = () => { for (let k = 0; k < 4; k++) S[8 + k] = S[12 + k] < 0 ? S[4 + k] : S[k]; };
export const blendvpd: Kernel = () => {
  for (let k = 0; k < 4; k += 2) { const s = S[13 + k] < 0 ? 4 : 0; S[8 + k] = S[s + k]; S[9 + k] = S[s + k + 1]; }
};

// ------------------------------------------------------------------ sign / zero extension (source = slot B)

export const pmovsxbw: Kernel = () => { for (let k = 0; k < 8; k++) I16[16 + k] = I8[16 + k]; };
export const pmovsxbd: Kernel = () => { for (let k = 0; k < 4; k++) S[8 + k] = I8[16 + k]; };
export const pmovsxbq: Kernel = () => { for (let k = 0; k < 2; k++) { S[8 + 2 * k] = I8[16 + k]; S[9 + 2 * k] = I8[16 + k] >> 31; } };
export const pmovsxwd: Kernel = () => { for (let k = 0; k < 4; k++) S[8 + k] = I16[8 + k]; };
export const pmovsxwq: Kernel = () => { for (let k = 0; k < 2; k++) { S[8 + 2 * k] = I16[8 + k]; S[9 + 2 * k] = I16[8 + k] >> 31; } };
export const pmovsxdq: Kernel = () => { const a = S[4], b = S[5]; S[8] = a; S[9] = a >> 31; S[10] = b; S[11] = b >> 31; };
export const pmovzxbw: Kernel = () => { for (let k = 0; k < 8; k++) U16[16 + k] = U8[16 + k]; };
export const pmovzxbd: Kernel = () => { for (let k = 0; k < 4; k++) S[8 + k] = U8[16 + k]; };
export const pmovzxbq: Kernel = () => { for (let k = 0; k < 2; k++) { S[8 + 2 * k] = U8[16 + k]; S[9 + 2 * k] = 0; } };
export const pmovzxwd: Kernel = () => { for (let k = 0; k < 4; k++) S[8 + k] = U16[8 + k]; };
export const pmovzxwq: Kernel = () => { for (let k = 0; k < 2; k++) { S[8 + 2 * k] = U16[8 + k]; S[9 + 2 * k] = 0; } };
export const pmovzxdq: Kernel = () => { const a = S[4], b = S[5]; S[8] = a; S[9] = 0; S[10] = b; S[11] = 0; };

// ------------------------------------------------------------------ insertps

/** insertps: element imm[7:6] of the source (a register; memory gives its one dword) into dest element imm[5:4], then zero by imm[3:0]. */
function insertpsKernel(fromMem: boolean): Kernel {
  return (c, i) => {
    const m = i.imm;
    const v = S[4 + (fromMem ? 0 : (m >> 6) & 3)];
    S[8] = S[0]; S[9] = S[1]; S[10] = S[2]; S[11] = S[3];
    S[8 + ((m >> 4) & 3)] = v;
    for (let k = 0; k < 4; k++) if (m & (1 << k)) S[8 + k] = 0;
  };
}
export const insertpsReg = insertpsKernel(false), insertpsMem = insertpsKernel(true);
