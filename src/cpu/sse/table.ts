/**
 * The opcode map: (map, mandatory prefix, opcode) → factory. A factory looks
 * at the decoded operands (register or memory form, REX.W, imm8) and returns
 * the specialised exec function, or null when that form is undefined.
 */
import type { ExecFn, Instr } from '../instr.js';
import { Src, binop, binopX0, readOnly, type Kernel } from './scratch.js';
import * as F from './float-arith.js';
import * as C from './compare.js';
import * as V from './convert.js';
import * as I from './int-arith.js';
import * as H from './shift.js';
import * as X from './shuffle.js';
import * as M from './moves.js';
import { pcmpstr } from './string-ops.js';
import { crc32 } from './crc32.js';
import { lanewise, type Lane } from './lanewise.js';
import { scalarFast, type ScalarOp } from './scalar-fast.js';

type Factory = (i: Instr) => ExecFn | null;

const MAPS: Record<number, number> = { 0x0f: 0, 0x0f38: 1, 0x0f3a: 2 };
const PREFIXES: Record<number, number> = { 0: 0, 0x66: 1, 0xf3: 2, 0xf2: 3 };
const table: (Factory | undefined)[] = new Array(3 * 4 * 256);

export function lookup(map: number, prefix: number, op: number): Factory | undefined {
  const m = MAPS[map], p = PREFIXES[prefix];
  if (m === undefined || p === undefined) return undefined;
  return table[(m * 4 + p) * 256 + op];
}

function def(map: number, prefix: number, op: number, f: Factory): void {
  table[(MAPS[map] * 4 + PREFIXES[prefix]) * 256 + op] = f;
}
/** dest ← kernel(dest, src) with the source's memory width. */
const bin = (k: Kernel, src: Src = Src.M128A): Factory => (i) => binop(i, k, src);
/** Same, with the kernel chosen by imm8[2:0] from a prebuilt list. */
const binImm = (ks: Kernel[], src: Src = Src.M128A): Factory => (i) => binop(i, ks[i.imm & 7], src);
const memOnly = (f: Factory): Factory => (i) => (i.isMem ? f(i) : null);

const NP = 0, P66 = 0x66, PF3 = 0xf3, PF2 = 0xf2;
const M0F = 0x0f, M38 = 0x0f38, M3A = 0x0f3a;

// ------------------------------------------------------------------ moves

def(M0F, NP, 0x10, (i) => M.load128(i, false)); // movups
def(M0F, P66, 0x10, (i) => M.load128(i, false)); // movupd
def(M0F, PF3, 0x10, M.movssLoad);
def(M0F, PF2, 0x10, M.movsdLoad);
def(M0F, NP, 0x11, (i) => M.store128(i, false));
def(M0F, P66, 0x11, (i) => M.store128(i, false));
def(M0F, PF3, 0x11, M.movssStore);
def(M0F, PF2, 0x11, (i) => M.storeLow64(i, 'merge')); // movsd
def(M0F, NP, 0x12, (i) => M.loadLow64(i, true)); // movlps / movhlps
def(M0F, P66, 0x12, (i) => M.loadLow64(i, false)); // movlpd
def(M0F, PF3, 0x12, bin(X.movsldup));
def(M0F, PF2, 0x12, bin(X.movddup, Src.M64));
def(M0F, NP, 0x13, (i) => M.storeLow64(i, null)); // movlps m64
def(M0F, P66, 0x13, (i) => M.storeLow64(i, null)); // movlpd m64
def(M0F, NP, 0x16, (i) => M.loadHigh64(i, true)); // movhps / movlhps
def(M0F, P66, 0x16, (i) => M.loadHigh64(i, false)); // movhpd
def(M0F, PF3, 0x16, bin(X.movshdup));
def(M0F, NP, 0x17, M.storeHigh64);
def(M0F, P66, 0x17, M.storeHigh64);
def(M0F, NP, 0x28, (i) => M.load128(i, true)); // movaps
def(M0F, P66, 0x28, (i) => M.load128(i, true)); // movapd
def(M0F, NP, 0x29, (i) => M.store128(i, true));
def(M0F, P66, 0x29, (i) => M.store128(i, true));
def(M0F, NP, 0x2b, memOnly((i) => M.store128(i, true))); // movntps
def(M0F, P66, 0x2b, memOnly((i) => M.store128(i, true))); // movntpd
def(M0F, NP, 0x50, M.movmskps);
def(M0F, P66, 0x50, M.movmskpd);
def(M0F, P66, 0x6e, M.movdToXmm);
def(M0F, P66, 0x6f, (i) => M.load128(i, true)); // movdqa
def(M0F, PF3, 0x6f, (i) => M.load128(i, false)); // movdqu
def(M0F, P66, 0x7e, M.movdFromXmm);
def(M0F, PF3, 0x7e, M.movqLoad);
def(M0F, P66, 0x7f, (i) => M.store128(i, true));
def(M0F, PF3, 0x7f, (i) => M.store128(i, false));
def(M0F, P66, 0xc4, M.pinsrw);
def(M0F, P66, 0xc5, M.pextrwC5);
def(M0F, P66, 0xd6, (i) => M.storeLow64(i, 'zero')); // movq xmm/m64, xmm
def(M0F, P66, 0xd7, M.pmovmskb);
def(M0F, P66, 0xe7, memOnly((i) => M.store128(i, true))); // movntdq
def(M0F, PF2, 0xf0, memOnly((i) => M.load128(i, false))); // lddqu
def(M0F, P66, 0xf7, M.maskmovdqu);
def(M38, P66, 0x2a, memOnly((i) => M.load128(i, true))); // movntdqa

// ------------------------------------------------------------------ float arithmetic

/** opcode, single and double element operations, and the JavaScript operator of the scalar fast path. */
const arith: [number, F.Elem, F.Elem, ScalarOp | null][] = [
  [0x51, F.sqrt32, F.sqrt64, null],
  [0x58, F.add32, F.add64, '+'],
  [0x59, F.mul32, F.mul64, '*'],
  [0x5c, F.sub32, F.sub64, '-'],
  [0x5d, F.min32, F.min64, null],
  [0x5e, F.div32, F.div64, '/'],
  [0x5f, F.max32, F.max64, null],
];
for (const [op, e32, e64, js] of arith) {
  def(M0F, NP, op, bin(F.packed32(e32)));
  def(M0F, P66, op, bin(F.packed64(e64)));
  const ss = F.scalar32(e32), sd = F.scalar64(e64);
  def(M0F, PF3, op, js ? (i) => scalarFast(i, js, true, ss) : bin(ss, Src.M32));
  def(M0F, PF2, op, js ? (i) => scalarFast(i, js, false, sd) : bin(sd, Src.M64));
}
def(M0F, NP, 0x52, bin(F.packed32(F.rsqrt32)));
def(M0F, PF3, 0x52, bin(F.scalar32(F.rsqrt32), Src.M32));
def(M0F, NP, 0x53, bin(F.packed32(F.rcp32)));
def(M0F, PF3, 0x53, bin(F.scalar32(F.rcp32), Src.M32));
// Bitwise float ops are the integer ones.
for (const p of [NP, P66]) {
  def(M0F, p, 0x54, (i) => lanewise(i, 'i32', 'a & b'));
  def(M0F, p, 0x55, (i) => lanewise(i, 'i32', '~a & b'));
  def(M0F, p, 0x56, (i) => lanewise(i, 'i32', 'a | b'));
  def(M0F, p, 0x57, (i) => lanewise(i, 'i32', 'a ^ b'));
}
def(M0F, P66, 0x7c, bin(F.haddpd));
def(M0F, PF2, 0x7c, bin(F.haddps));
def(M0F, P66, 0x7d, bin(F.hsubpd));
def(M0F, PF2, 0x7d, bin(F.hsubps));
def(M0F, P66, 0xd0, bin(F.addsubpd));
def(M0F, PF2, 0xd0, bin(F.addsubps));
def(M3A, P66, 0x40, bin(F.dpps));
def(M3A, P66, 0x41, bin(F.dppd));

// ------------------------------------------------------------------ float compares

def(M0F, NP, 0xc2, binImm(C.cmpps));
def(M0F, P66, 0xc2, binImm(C.cmppd));
def(M0F, PF3, 0xc2, binImm(C.cmpss, Src.M32));
def(M0F, PF2, 0xc2, binImm(C.cmpsd, Src.M64));
def(M0F, NP, 0x2e, (i) => readOnly(i, C.ucomiss, Src.M32)); // ucomiss
def(M0F, NP, 0x2f, (i) => readOnly(i, C.comiss, Src.M32)); // comiss
def(M0F, P66, 0x2e, (i) => readOnly(i, C.ucomisd, Src.M64)); // ucomisd
def(M0F, P66, 0x2f, (i) => readOnly(i, C.comisd, Src.M64)); // comisd

// ------------------------------------------------------------------ conversions

def(M0F, PF3, 0x2a, (i) => V.cvtsi2f(i, true));
def(M0F, PF2, 0x2a, (i) => V.cvtsi2f(i, false));
def(M0F, PF3, 0x2c, (i) => V.cvtf2si(i, true, true));
def(M0F, PF2, 0x2c, (i) => V.cvtf2si(i, false, true));
def(M0F, PF3, 0x2d, (i) => V.cvtf2si(i, true, false));
def(M0F, PF2, 0x2d, (i) => V.cvtf2si(i, false, false));
def(M0F, NP, 0x5a, bin(V.cvtps2pd, Src.M64));
def(M0F, P66, 0x5a, bin(V.cvtpd2ps));
def(M0F, PF3, 0x5a, bin(V.cvtss2sd, Src.M32));
def(M0F, PF2, 0x5a, bin(V.cvtsd2ss, Src.M64));
def(M0F, NP, 0x5b, bin(V.cvtdq2ps));
def(M0F, P66, 0x5b, bin(V.cvtps2dq(false)));
def(M0F, PF3, 0x5b, bin(V.cvtps2dq(true)));
def(M0F, P66, 0xe6, bin(V.cvtpd2dq(true))); // cvttpd2dq
def(M0F, PF2, 0xe6, bin(V.cvtpd2dq(false)));
def(M0F, PF3, 0xe6, bin(V.cvtdq2pd, Src.M64));
def(M3A, P66, 0x08, bin(V.roundps));
def(M3A, P66, 0x09, bin(V.roundpd));
def(M3A, P66, 0x0a, bin(V.roundss, Src.M32));
def(M3A, P66, 0x0b, bin(V.roundsd, Src.M64));

// ------------------------------------------------------------------ integer SIMD (66 prefix; the unprefixed MMX forms are not implemented)

const int66: [number, number, Kernel][] = [
  [M0F, 0x60, X.punpcklbw], [M0F, 0x61, X.punpcklwd], [M0F, 0x62, X.punpckldq], [M0F, 0x63, X.packsswb],
  [M0F, 0x67, X.packuswb], [M0F, 0x68, X.punpckhbw], [M0F, 0x69, X.punpckhwd], [M0F, 0x6a, X.punpckhdq],
  [M0F, 0x6b, X.packssdw], [M0F, 0x6c, X.punpcklqdq], [M0F, 0x6d, X.punpckhqdq],
  [M0F, 0xd1, H.byXmm(H.psrlw)], [M0F, 0xd2, H.byXmm(H.psrld)], [M0F, 0xd3, H.byXmm(H.psrlq)],
  [M0F, 0xe1, H.byXmm(H.psraw)], [M0F, 0xe2, H.byXmm(H.psrad)],
  [M0F, 0xf1, H.byXmm(H.psllw)], [M0F, 0xf2, H.byXmm(H.pslld)], [M0F, 0xf3, H.byXmm(H.psllq)],
  [M0F, 0xd4, I.paddq], [M0F, 0xfb, I.psubq], [M0F, 0xf4, I.pmuludq], [M0F, 0xf5, I.pmaddwd], [M0F, 0xf6, I.psadbw],
  // SSSE3
  [M38, 0x00, X.pshufb], [M38, 0x01, I.phaddw], [M38, 0x02, I.phaddd], [M38, 0x03, I.phaddsw],
  [M38, 0x04, I.pmaddubsw], [M38, 0x05, I.phsubw], [M38, 0x06, I.phsubd], [M38, 0x07, I.phsubsw],
  // SSE4.1 / 4.2
  [M38, 0x28, I.pmuldq], [M38, 0x29, I.pcmpeqq], [M38, 0x2b, X.packusdw], [M38, 0x37, I.pcmpgtq],
  [M38, 0x41, I.phminposuw],
];
for (const [map, op, k] of int66) def(map, P66, op, bin(k));

/** Element-wise integer ops: dest[k] = expression(a = dest[k], b = src[k]) (see lanewise.ts). */
const elementwise: [number, number, Lane, string][] = [
  [M0F, 0x64, 's8', 'a > b ? 0xff : 0'], // pcmpgtb
  [M0F, 0x65, 's16', 'a > b ? 0xffff : 0'], // pcmpgtw
  [M0F, 0x66, 'i32', 'a > b ? -1 : 0'], // pcmpgtd
  [M0F, 0x74, 'u8', 'a === b ? 0xff : 0'], // pcmpeqb
  [M0F, 0x75, 'u16', 'a === b ? 0xffff : 0'], // pcmpeqw
  [M0F, 0x76, 'i32', 'a === b ? -1 : 0'], // pcmpeqd
  [M0F, 0xd5, 'u16', 'Math.imul(a, b)'], // pmullw
  [M0F, 0xd8, 'u8', 'sat8u(a - b)'], // psubusb
  [M0F, 0xd9, 'u16', 'sat16u(a - b)'], // psubusw
  [M0F, 0xda, 'u8', 'a < b ? a : b'], // pminub
  [M0F, 0xdb, 'i32', 'a & b'], // pand
  [M0F, 0xdc, 'u8', 'sat8u(a + b)'], // paddusb
  [M0F, 0xdd, 'u16', 'sat16u(a + b)'], // paddusw
  [M0F, 0xde, 'u8', 'a > b ? a : b'], // pmaxub
  [M0F, 0xdf, 'i32', '~a & b'], // pandn
  [M0F, 0xe0, 'u8', '(a + b + 1) >> 1'], // pavgb
  [M0F, 0xe3, 'u16', '(a + b + 1) >> 1'], // pavgw
  [M0F, 0xe4, 'u16', '(a * b) >>> 16'], // pmulhuw
  [M0F, 0xe5, 's16', '(a * b) >> 16'], // pmulhw
  [M0F, 0xe8, 's8', 'sat8s(a - b)'], // psubsb
  [M0F, 0xe9, 's16', 'sat16s(a - b)'], // psubsw
  [M0F, 0xea, 's16', 'a < b ? a : b'], // pminsw
  [M0F, 0xeb, 'i32', 'a | b'], // por
  [M0F, 0xec, 's8', 'sat8s(a + b)'], // paddsb
  [M0F, 0xed, 's16', 'sat16s(a + b)'], // paddsw
  [M0F, 0xee, 's16', 'a > b ? a : b'], // pmaxsw
  [M0F, 0xef, 'i32', 'a ^ b'], // pxor
  [M0F, 0xf8, 'u8', 'a - b'], // psubb
  [M0F, 0xf9, 'u16', 'a - b'], // psubw
  [M0F, 0xfa, 'i32', 'a - b'], // psubd
  [M0F, 0xfc, 'u8', 'a + b'], // paddb
  [M0F, 0xfd, 'u16', 'a + b'], // paddw
  [M0F, 0xfe, 'i32', 'a + b'], // paddd
  [M38, 0x08, 's8', 'b < 0 ? -a : b === 0 ? 0 : a'], // psignb
  [M38, 0x09, 's16', 'b < 0 ? -a : b === 0 ? 0 : a'], // psignw
  [M38, 0x0a, 'i32', 'b < 0 ? -a : b === 0 ? 0 : a'], // psignd
  [M38, 0x0b, 's16', '(((a * b) >> 14) + 1) >> 1'], // pmulhrsw
  [M38, 0x1c, 's8', 'b < 0 ? -b : b'], // pabsb
  [M38, 0x1d, 's16', 'b < 0 ? -b : b'], // pabsw
  [M38, 0x1e, 'i32', 'b < 0 ? -b : b'], // pabsd
  [M38, 0x38, 's8', 'a < b ? a : b'], // pminsb
  [M38, 0x39, 'i32', 'a < b ? a : b'], // pminsd
  [M38, 0x3a, 'u16', 'a < b ? a : b'], // pminuw
  [M38, 0x3b, 'u32', 'a < b ? a : b'], // pminud
  [M38, 0x3c, 's8', 'a > b ? a : b'], // pmaxsb
  [M38, 0x3d, 'i32', 'a > b ? a : b'], // pmaxsd
  [M38, 0x3e, 'u16', 'a > b ? a : b'], // pmaxuw
  [M38, 0x3f, 'u32', 'a > b ? a : b'], // pmaxud
  [M38, 0x40, 'i32', 'Math.imul(a, b)'], // pmulld
];
for (const [map, op, lane, expr] of elementwise) def(map, P66, op, (i) => lanewise(i, lane, expr));

def(M0F, NP, 0x14, bin(X.punpckldq)); // unpcklps
def(M0F, NP, 0x15, bin(X.punpckhdq)); // unpckhps
def(M0F, P66, 0x14, bin(X.punpcklqdq)); // unpcklpd
def(M0F, P66, 0x15, bin(X.punpckhqdq)); // unpckhpd
def(M0F, NP, 0xc6, bin(X.shufps));
def(M0F, P66, 0xc6, bin(X.shufpd));
def(M0F, P66, 0x70, bin(X.pshufd));
def(M0F, PF3, 0x70, bin(X.pshufhw));
def(M0F, PF2, 0x70, bin(X.pshuflw));
def(M3A, P66, 0x0f, bin(X.palignr));
def(M3A, P66, 0x0c, bin(X.blendps));
def(M3A, P66, 0x0d, bin(X.blendpd));
def(M3A, P66, 0x0e, bin(X.pblendw));
def(M3A, P66, 0x42, bin(I.mpsadbw));
def(M38, P66, 0x10, (i) => binopX0(i, X.pblendvb, Src.M128A));
def(M38, P66, 0x14, (i) => binopX0(i, X.blendvps, Src.M128A));
def(M38, P66, 0x15, (i) => binopX0(i, X.blendvpd, Src.M128A));
def(M38, P66, 0x17, (i) => readOnly(i, I.ptest, Src.M128A));

const pmov: [number, Kernel, Kernel, Src][] = [
  [0x20, X.pmovsxbw, X.pmovzxbw, Src.M64], [0x21, X.pmovsxbd, X.pmovzxbd, Src.M32],
  [0x22, X.pmovsxbq, X.pmovzxbq, Src.M16], [0x23, X.pmovsxwd, X.pmovzxwd, Src.M64],
  [0x24, X.pmovsxwq, X.pmovzxwq, Src.M32], [0x25, X.pmovsxdq, X.pmovzxdq, Src.M64],
];
for (const [op, sx, zx, src] of pmov) {
  def(M38, P66, op, bin(sx, src));
  def(M38, P66, op + 0x10, bin(zx, src));
}

// Shift groups 0F 71/72/73: ModRM.reg selects the operation, the register is ModRM.rm.
const groups: Record<number, (H.Shift | undefined)[]> = {
  0x71: [, , H.psrlw, , H.psraw, , H.psllw],
  0x72: [, , H.psrld, , H.psrad, , H.pslld],
  0x73: [, , H.psrlq, H.psrldq, , , H.psllq, H.pslldq],
};
for (const op of [0x71, 0x72, 0x73]) {
  def(M0F, P66, op, (i) => {
    const f = groups[op][i.reg & 7];
    return f ? H.byImm(i, f) : null;
  });
}

// ------------------------------------------------------------------ insert / extract

def(M3A, P66, 0x14, (i) => M.pextr(i, 1));
def(M3A, P66, 0x15, (i) => M.pextr(i, 2));
def(M3A, P66, 0x16, (i) => M.pextr(i, i.rexW ? 8 : 4));
def(M3A, P66, 0x17, (i) => M.pextr(i, 4)); // extractps
def(M3A, P66, 0x20, (i) => M.pinsr(i, 1));
def(M3A, P66, 0x21, (i) => binop(i, i.isMem ? X.insertpsMem : X.insertpsReg, Src.M32));
def(M3A, P66, 0x22, (i) => M.pinsr(i, i.rexW ? 8 : 4));

// ------------------------------------------------------------------ SSE4.2

def(M3A, P66, 0x60, (i) => pcmpstr(i, true, false)); // pcmpestrm
def(M3A, P66, 0x61, (i) => pcmpstr(i, true, true)); // pcmpestri
def(M3A, P66, 0x62, (i) => pcmpstr(i, false, false)); // pcmpistrm
def(M3A, P66, 0x63, (i) => pcmpstr(i, false, true)); // pcmpistri
def(M38, PF2, 0xf0, crc32);
def(M38, PF2, 0xf1, crc32);

/** CPUID feature bits this module fully implements (leaf 1): SSE, SSE2 (edx); SSE3, SSSE3, SSE4.1, SSE4.2 (ecx). */
export const SSE_FEATURES = {
  edx: (1 << 25) | (1 << 26),
  ecx: (1 << 0) | (1 << 9) | (1 << 19) | (1 << 20),
};
