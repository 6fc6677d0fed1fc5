/**
 * WebAssembly translations of the SSE2 instructions glibc's string routines
 * live on — the set jit/emit-sse.ts translates to JavaScript, with the same
 * semantics (src/cpu/sse/ owns them): 128-bit moves, movd/movq, the bitwise
 * ops, pcmpeqb/w/d, pcmpgtb/w/d, paddd/psubd, pminub/pmaxub, pmovmskb, pshufd — as v128
 * operations on the xmm registers in the Cpu's pool slot (regp + 128); and
 * the byte shuffles and integer adds glibc's strcmp/memcmp family adds to
 * them (punpckl/h*, palignr, psrldq/pslldq, padd/psub b/w/q), pmuludq and
 * the shifts by an immediate.
 *
 * A 128-bit memory operand must be inside one page, and 16-byte aligned
 * where the instruction requires it; otherwise the region leaves for the
 * interpreter, which crosses the page or raises the fault. None of these
 * reads or writes the arithmetic flags.
 */
import type { Instr } from '../instr.js';
import { prefix } from '../jit/emit-sse.js';
import * as C from '../ops/control.js';
import { S_MXFAST, XMM_OFFSET } from './state.js';
import { F32, F64, Op, Simd } from './encoder.js';
import { MAX32, MAX64, MIN_NORMAL32, MIN_NORMAL64 } from '../sse/mxcsr.js';
import type { WasmEmitter } from './emitter.js';
import type { WasmTranslation } from './ops.js';


const xmmAt = (n: number) => XMM_OFFSET + 16 * (n & 15);
/** Pushes xmm n. */
function getX(g: WasmEmitter, n: number): void {
  g.f.get(g.regp).simdMem(Simd.v128Load, xmmAt(n));
}
/** Stores the v128 computed by `value` into xmm n. */
function setX(g: WasmEmitter, n: number, value: () => void): void {
  g.f.get(g.regp);
  value();
  g.f.simdMem(Simd.v128Store, xmmAt(n));
}

/** The pool offset of i's 16-byte memory operand (probed; aligned when required), in a local. */
function mem128(g: WasmEmitter, i: Instr, aligned: boolean, write: boolean): number {
  const a = g.ea(i);
  if (aligned) {
    g.f.get(a).op(Op.i32WrapI64).i32(15).op(Op.i32And).ifUnlikely('misaligned');
    g.slowExit();
    g.f.end();
  }
  return g.probe(a, 16, write);
}
/** Pushes the source operand (xmm register, or a 16-byte memory operand). */
function source(g: WasmEmitter, i: Instr, aligned: boolean): () => void {
  if (!i.isMem) return () => getX(g, i.rm);
  const h = mem128(g, i, aligned, false);
  return () => g.f.get(h).simdMem(Simd.v128Load);
}

const moveLoad = (aligned: boolean): WasmTranslation => (g, i) => {
  const src = source(g, i, aligned);
  setX(g, i.reg, src);
};
const moveStore = (aligned: boolean): WasmTranslation => (g, i) => {
  if (!i.isMem) return setX(g, i.rm, () => getX(g, i.reg));
  const h = mem128(g, i, aligned, true);
  g.f.get(h);
  getX(g, i.reg);
  g.f.simdMem(Simd.v128Store);
};
/** dest = dest OP source (swap: source OP dest, for andn's ~dest & source). */
const binary = (op: number, swap = false): WasmTranslation => (g, i) => {
  const src = source(g, i, true);
  setX(g, i.reg, () => {
    if (swap) src();
    getX(g, i.reg);
    if (!swap) src();
    g.f.simd(op);
  });
};

const TABLE = new Map<number, WasmTranslation>();
const key = (pfx: number, op: number) => (pfx << 8) | op;
const def = (pfx: number, op: number, t: WasmTranslation) => TABLE.set(key(pfx, op), t);

for (const pfx of [0, 0x66]) {
  def(pfx, 0x10, moveLoad(false)); // movups/movupd
  def(pfx, 0x28, moveLoad(true)); // movaps/movapd
  def(pfx, 0x11, moveStore(false));
  def(pfx, 0x29, moveStore(true));
  def(pfx, 0x54, binary(Simd.v128And)); // andps/andpd
  def(pfx, 0x55, binary(Simd.v128AndNot, true)); // andnps/andnpd: ~dest & source
  def(pfx, 0x56, binary(Simd.v128Or)); // orps/orpd
  def(pfx, 0x57, binary(Simd.v128Xor)); // xorps/xorpd
}
def(0x66, 0x6f, moveLoad(true)); // movdqa
def(0xf3, 0x6f, moveLoad(false)); // movdqu
def(0x66, 0x7f, moveStore(true));
def(0xf3, 0x7f, moveStore(false));
def(0x66, 0xef, binary(Simd.v128Xor)); // pxor
def(0x66, 0xeb, binary(Simd.v128Or)); // por
def(0x66, 0xdb, binary(Simd.v128And)); // pand
def(0x66, 0xdf, binary(Simd.v128AndNot, true)); // pandn
def(0x66, 0x74, binary(Simd.i8x16Eq)); // pcmpeqb
def(0x66, 0x75, binary(Simd.i16x8Eq)); // pcmpeqw
def(0x66, 0x76, binary(Simd.i32x4Eq)); // pcmpeqd
def(0x66, 0x64, binary(Simd.i8x16GtS)); // pcmpgtb
def(0x66, 0x65, binary(Simd.i16x8GtS)); // pcmpgtw
def(0x66, 0x66, binary(Simd.i32x4GtS)); // pcmpgtd
def(0x66, 0xfe, binary(Simd.i32x4Add)); // paddd
def(0x66, 0xfa, binary(Simd.i32x4Sub)); // psubd
def(0x66, 0xda, binary(Simd.i8x16MinU)); // pminub
def(0x66, 0xde, binary(Simd.i8x16MaxU)); // pmaxub

// pmovmskb r32, xmm: the top bit of each byte.
def(0x66, 0xd7, (g, i) => {
  if (i.isMem) return false;
  getX(g, i.rm);
  g.f.simd(Simd.i8x16Bitmask).op(Op.i64ExtendI32U);
  g.setReg(i.reg, 4);
});
// pshufd xmm, xmm/m128, imm8: dword k of the result is dword (imm >> 2k) & 3 of the source.
def(0x66, 0x70, (g, i) => {
  const src = source(g, i, true);
  const lanes: number[] = [];
  for (let k = 0; k < 4; k++) {
    const sel = (i.imm >> (2 * k)) & 3;
    for (let b = 0; b < 4; b++) lanes.push(sel * 4 + b);
  }
  setX(g, i.reg, () => {
    src();
    src();
    g.f.simd(Simd.i8x16Shuffle);
    for (const l of lanes) g.f.code.push(l);
  });
});

/** Stores into xmm n the i64 local v zero-extended to 128 bits. */
function setLow64(g: WasmEmitter, n: number, v: number): void {
  setX(g, n, () => {
    g.f.v128(new Array(16).fill(0)).get(v).simd(Simd.i64x2ReplaceLane);
    g.f.code.push(0);
  });
}
/** Pushes the low quadword of xmm n (i64). */
function low64(g: WasmEmitter, n: number): void {
  getX(g, n);
  g.f.simd(Simd.i64x2ExtractLane);
  g.f.code.push(0);
}

// movd/movq xmm, r/m32|r/m64: zero-extended into the register.
def(0x66, 0x6e, (g, i) => {
  const size = i.rexW ? 8 : 4;
  let v: number;
  if (i.isMem) v = g.loadTo(size, g.probe(g.ea(i), size, false));
  else v = g.read(i.rm, size);
  setLow64(g, i.reg, v);
});
// movd/movq r/m32|r/m64, xmm
def(0x66, 0x7e, (g, i) => {
  const size = i.rexW ? 8 : 4;
  if (i.isMem) {
    const h = g.probe(g.ea(i), size, true);
    low64(g, i.reg);
    const v = g.keep64();
    g.store(size, h, v);
  } else {
    low64(g, i.reg);
    g.setReg(i.rm, size);
  }
});
// movq xmm, xmm/m64 (F3 0F 7E): the upper quadword is zeroed.
def(0xf3, 0x7e, (g, i) => {
  let v: number;
  if (i.isMem) v = g.loadTo(8, g.probe(g.ea(i), 8, false));
  else {
    low64(g, i.rm);
    v = g.keep64();
  }
  setLow64(g, i.reg, v);
});
// movq xmm/m64, xmm (66 0F D6): a register destination has its upper quadword zeroed.
def(0x66, 0xd6, (g, i) => {
  if (i.isMem) {
    const h = g.probe(g.ea(i), 8, true);
    low64(g, i.reg);
    g.store(8, h, g.keep64());
  } else {
    low64(g, i.reg);
    setLow64(g, i.rm, g.keep64());
  }
});

// movlps/movlpd xmm, m64 (0F 12, 66 0F 12) and movhps/movhpd xmm, m64 (0F 16, 66 0F 16): one quadword of the
// register from memory, the other kept; register forms without 66: movhlps (low = source's high) and movlhps
// (high = source's low). 66 with a register operand is #UD (the interpreter raises it).
for (const [op, half] of [[0x12, 0], [0x16, 1]] as const) {
  for (const pfx of [0, 0x66]) {
    def(pfx, op, (g, i) => {
      const f = g.f;
      if (!i.isMem) {
        if (pfx === 0x66) return false;
        getX(g, i.rm);
        f.simd(Simd.i64x2ExtractLane).code.push(1 - half);
      } else g.load(8, g.probe(g.ea(i), 8, false));
      const v = g.keep64();
      f.get(g.regp).get(v).mem(Op.i64Store, xmmAt(i.reg) + 8 * half);
    });
  }
}
// movlps/movlpd m64, xmm (0F 13, 66 0F 13) and movhps/movhpd m64, xmm (0F 17, 66 0F 17); register forms are #UD.
for (const [op, half] of [[0x13, 0], [0x17, 1]] as const) {
  for (const pfx of [0, 0x66]) {
    def(pfx, op, (g, i) => {
      if (!i.isMem) return false;
      const h = g.probe(g.ea(i), 8, true);
      g.f.get(g.regp).mem(Op.i64Load, xmmAt(i.reg) + 8 * half);
      g.store(8, h, g.keep64());
    });
  }
}

/**
 * cvtsi2sd / cvtsi2ss xmm, r/m32|r/m64 (F2 / F3 0F 2A): the integer as a
 * double (float) into the low lane, the rest kept. Only conversions that are
 * exact run here — those do not depend on MXCSR's rounding mode and raise no
 * exception flag; an inexact one (more significant bits than the format has)
 * leaves for the interpreter, which rounds as MXCSR says and sets PE.
 */
const cvtsi2f = (single: boolean): WasmTranslation => (g, i) => {
  const f = g.f, size = i.rexW ? 8 : 4;
  if (i.isMem) g.load(size, g.probe(g.ea(i), size, false));
  else g.getReg(i.rm, size);
  if (size === 4) f.op(Op.i64Extend32S);
  const x = g.keep64();
  if (single || size === 8) {
    // Significant bits of |x|: 64 - clz - ctz (|INT64_MIN| = 2^63 has one).
    f.i64(0).get(x).op(Op.i64Sub).get(x).get(x).i64(0).op(Op.i64LtS).op(Op.select);
    const m = g.keep64();
    f.i64(64).get(m).op(Op.i64Clz, Op.i64Sub).get(m).op(Op.i64Ctz, Op.i64Sub).i64(single ? 24 : 53).op(Op.i64GtS).ifUnlikely('inexact');
    g.slowExit();
    f.end();
  }
  f.get(g.regp).get(x);
  if (single) f.op(Op.f32ConvertI64S, Op.i32ReinterpretF32).mem(Op.i32Store, xmmAt(i.reg));
  else f.op(Op.f64ConvertI64S, Op.i64ReinterpretF64).mem(Op.i64Store, xmmAt(i.reg));
};
def(0xf2, 0x2a, cvtsi2f(false));
def(0xf3, 0x2a, cvtsi2f(true));

/**
 * movss / movsd (F3 / F2 0F 10, 11): from memory the scalar zero-extended to
 * 128 bits; to memory the low lane; between registers the low lane only.
 */
const movScalar = (size: 4 | 8, toMemory: boolean): WasmTranslation => (g, i) => {
  const f = g.f;
  const [load, store] = size === 4 ? [Op.i32Load, Op.i32Store] : [Op.i64Load, Op.i64Store];
  const [dest, src] = toMemory ? [i.rm, i.reg] : [i.reg, i.rm];
  if (!i.isMem) {
    f.get(g.regp).get(g.regp).mem(load, xmmAt(src)).mem(store, xmmAt(dest));
    return;
  }
  const h = g.probe(g.ea(i), size, toMemory);
  if (toMemory) {
    f.get(h).get(g.regp).mem(load, xmmAt(i.reg)).mem(store);
    return;
  }
  setLow64(g, i.reg, g.loadTo(size, h));
};
def(0xf3, 0x10, movScalar(4, false));
def(0xf3, 0x11, movScalar(4, true));
def(0xf2, 0x10, movScalar(8, false));
def(0xf2, 0x11, movScalar(8, true));

type ScalarOp = '+' | '-' | '*' | '/';
/**
 * addsd/subsd/mulsd/divsd and the ss forms (F2 / F3 0F 58, 5C, 59, 5E): the
 * fast path of sse/scalar-fast.ts — MXCSR in its fast state (S_MXFAST),
 * operands normal or zero, a result that cannot have underflowed or
 * overflowed, and for * and / the cases where no exception flag could be
 * newly raised — is one WebAssembly operation (IEEE, round to nearest, as
 * SSE's). An exact sum or difference needs no PE either: sqlite3 adds
 * integers as doubles, and PE is never raised. Anything else leaves for the
 * interpreter before the instruction, which applies the full SSE rules
 * (NaNs, denormals, flags, other roundings).
 */
const scalarArith = (op: ScalarOp, single: boolean): WasmTranslation => (g, i) => {
  const f = g.f, T = single ? F32 : F64, size = single ? 4 : 8;
  const [load, store] = single ? [Op.f32Load, Op.f32Store] : [Op.f64Load, Op.f64Store];
  const a = f.local(T), b = f.local(T), r = f.local(T);
  f.get(g.regp).mem(load, xmmAt(i.reg)).set(a);
  if (i.isMem) f.get(g.probe(g.ea(i), size, false)).mem(load).set(b);
  else f.get(g.regp).mem(load, xmmAt(i.rm)).set(b);
  const arith = { '+': [Op.f32Add, Op.f64Add], '-': [Op.f32Sub, Op.f64Sub], '*': [Op.f32Mul, Op.f64Mul], '/': [Op.f32Div, Op.f64Div] }[op][single ? 0 : 1];
  f.get(a).get(b).op(arith).set(r);
  const [abs, eq, ne, ge, gt, le] = single ? [Op.f32Abs, Op.f32Eq, Op.f32Ne, Op.f32Ge, Op.f32Gt, Op.f32Le] : [Op.f64Abs, Op.f64Eq, Op.f64Ne, Op.f64Ge, Op.f64Gt, Op.f64Le];
  const [minNormal, max] = single ? [MIN_NORMAL32, MAX32] : [MIN_NORMAL64, MAX64];
  // Finite and normal (strictly above the smallest normal for the result: tininess is detected before rounding), or zero; NaN fails each.
  const inRange = (x: number, strict: boolean) => {
    f.get(x).op(abs).float(minNormal, single).op(strict ? gt : ge);
    f.get(x).op(abs).float(max, single).op(le, Op.i32And);
    f.get(x).float(0, single).op(eq, Op.i32Or);
  };
  // MXCSR rounds to nearest, no FTZ/DAZ, and PE is raised already — or (+, -) the result is exact, so that
  // PE stays as it is: TwoSum's error term of a + b' (b' = ±b), zero exactly when the sum is exact.
  const mx = g.t32();
  f.i32(0).mem(Op.i32Load, g.scratch + S_MXFAST).tee(mx).i32(3).op(Op.i32Eq);
  if (op === '+' || op === '-') {
    const [neg, sub, add] = single ? [Op.f32Neg, Op.f32Sub, Op.f32Add] : [Op.f64Neg, Op.f64Sub, Op.f64Add];
    const b2 = f.local(T), bb = f.local(T);
    f.get(b);
    if (op === '-') f.op(neg);
    f.set(b2);
    f.get(r).get(a).op(sub).set(bb);
    f.get(a).get(r).get(bb).op(sub).op(sub).get(b2).get(bb).op(sub).op(add).float(0, single).op(eq);
    f.get(mx).op(Op.i32And, Op.i32Or);
  }
  inRange(r, true);
  f.op(Op.i32And);
  inRange(a, false);
  f.op(Op.i32And);
  inRange(b, false);
  f.op(Op.i32And);
  if (op === '*' || op === '/') {
    // A zero result from nonzero operands underflowed (mul), and x/0 raises ZE or IE (div).
    f.get(r).float(0, single).op(ne).get(a).float(0, single).op(eq, Op.i32Or);
    if (op === '*') f.get(b).float(0, single).op(eq, Op.i32Or);
    f.op(Op.i32And);
    if (op === '/') f.get(b).float(0, single).op(ne, Op.i32And);
  }
  f.op(Op.i32Eqz).ifUnlikely('not-fast');
  g.slowExit();
  f.end();
  f.get(g.regp).get(r).mem(store, xmmAt(i.reg));
};
for (const [code, op] of [[0x58, '+'], [0x5c, '-'], [0x59, '*'], [0x5e, '/']] as const) {
  def(0xf2, code, scalarArith(op, false));
  def(0xf3, code, scalarArith(op, true));
}

/** dest = byte shuffle of (first, second) — wasm's i8x16.shuffle: lanes 0-15 from first, 16-31 from second. */
function shuffle(g: WasmEmitter, dest: number, first: () => void, second: () => void, lanes: number[]): void {
  setX(g, dest, () => {
    first();
    second();
    g.f.simd(Simd.i8x16Shuffle);
    for (const l of lanes) g.f.code.push(l);
  });
}
const range = (n: number, f: (k: number) => number[]) => Array.from({ length: n }, (_, k) => f(k)).flat();

/** punpckl… and punpckh…: interleave the low (or high) elements of dest and source, `size` bytes each. */
const unpack = (size: number, high: boolean): WasmTranslation => (g, i) => {
  const src = source(g, i, true);
  const base = high ? 8 : 0;
  const lanes = range(8 / size, (k) => [...range(size, (b) => [base + k * size + b]), ...range(size, (b) => [16 + base + k * size + b])]);
  shuffle(g, i.reg, () => getX(g, i.reg), src, lanes);
};
def(0x66, 0x60, unpack(1, false)); // punpcklbw
def(0x66, 0x61, unpack(2, false)); // punpcklwd
def(0x66, 0x62, unpack(4, false)); // punpckldq
def(0x66, 0x6c, unpack(8, false)); // punpcklqdq
def(0x66, 0x68, unpack(1, true)); // punpckhbw
def(0x66, 0x69, unpack(2, true)); // punpckhwd
def(0x66, 0x6a, unpack(4, true)); // punpckhdq
def(0x66, 0x6d, unpack(8, true)); // punpckhqdq
def(0x66, 0xfc, binary(Simd.i8x16Add)); // paddb
def(0x66, 0xf8, binary(Simd.i8x16Sub)); // psubb
def(0x66, 0xfd, binary(Simd.i16x8Add)); // paddw
def(0x66, 0xf9, binary(Simd.i16x8Sub)); // psubw
def(0x66, 0xd4, binary(Simd.i64x2Add)); // paddq
def(0x66, 0xfb, binary(Simd.i64x2Sub)); // psubq

// pmuludq: the low unsigned dwords of each quadword multiplied into the quadword.
def(0x66, 0xf4, (g, i) => {
  const src = source(g, i, true);
  const low = range(2, () => [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
  setX(g, i.reg, () => {
    getX(g, i.reg);
    g.f.v128(low).simd(Simd.v128And);
    src();
    g.f.v128(low).simd(Simd.v128And).simd(Simd.i64x2Mul);
  });
});

/**
 * The shift groups by an immediate (66 0F 71/72/73, the register in ModRM.rm):
 * psrl/psra/psll w, d, q, and psrldq/pslldq (73 /3, /7: whole-register byte
 * shifts). A count of at least the element size gives zeros (psra: the sign
 * everywhere); WebAssembly's shifts take the count modulo the size.
 */
function shiftGroup(bits: number, ops: Record<number, number>): WasmTranslation {
  return (g, i) => {
    const kind = i.reg & 7;
    const n = i.imm & 0xff;
    if (i.isMem) return false;
    if (bits === 64 && (kind === 3 || kind === 7)) {
      const lanes = range(16, (k) => {
        const from = kind === 3 ? k + n : k - n;
        return [from >= 0 && from < 16 ? from : 16]; // lane 16: a byte of the zero vector
      });
      return shuffle(g, i.rm, () => getX(g, i.rm), () => g.f.v128(new Array(16).fill(0)), lanes);
    }
    const op = ops[kind];
    if (op === undefined) return false;
    const arithmetic = kind === 4;
    if (n >= bits && !arithmetic) return setX(g, i.rm, () => g.f.v128(new Array(16).fill(0)));
    setX(g, i.rm, () => {
      getX(g, i.rm);
      g.f.i32(Math.min(n, bits - 1)).simd(op);
    });
  };
}
def(0x66, 0x71, shiftGroup(16, { 2: Simd.i16x8ShrU, 4: Simd.i16x8ShrS, 6: Simd.i16x8Shl }));
def(0x66, 0x72, shiftGroup(32, { 2: Simd.i32x4ShrU, 4: Simd.i32x4ShrS, 6: Simd.i32x4Shl }));
def(0x66, 0x73, shiftGroup(64, { 2: Simd.i64x2ShrU, 6: Simd.i64x2Shl }));

/** palignr xmm, xmm/m128, imm8 (66 0F 3A 0F): bytes imm.. of dest:source (dest the high half); imm above 15 stays in the interpreter. */
const palignr: WasmTranslation = (g, i) => {
  const n = i.imm & 0xff;
  if (n > 15) return false;
  const src = source(g, i, true);
  shuffle(g, i.reg, src, () => getX(g, i.reg), range(16, (k) => [k + n]));
};

/** The WebAssembly translation of a legacy-encoded SSE instruction the SSE module decoded, or undefined. */
export function sseWasm(i: Instr): WasmTranslation | undefined {
  if (i.vex || i.exec === C.illegal) return undefined;
  if (i.map === 0x0f3a) return i.op === 0x0f && prefix(i) === 0x66 ? palignr : undefined;
  if (i.map !== 0x0f) return undefined;
  return TABLE.get(key(prefix(i), i.op));
}
