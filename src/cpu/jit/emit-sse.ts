/**
 * The SSE2 instructions glibc's string routines live on (strlen, memchr,
 * memcpy, strcmp…): 128-bit moves, movd/movq, pxor/por/pand/pandn and their
 * ps/pd twins, pcmpeqb/w/d, pminub/pmaxub, pmovmskb, pshufd. Same semantics
 * as src/cpu/sse/ (which owns them and runs every other SSE instruction).
 *
 * The xmm registers stay in c.xmm (X, int32 lanes; XB bytes). A 128-bit
 * memory operand takes the inlined TLB fast path when it is inside one page
 * (and 16-byte aligned where the instruction requires it); otherwise the
 * instruction is left to the interpreter, which raises the right fault.
 * These instructions neither read nor write the arithmetic flags.
 */
import { REP_F2, REP_F3, type Instr } from '../instr.js';
import * as C from '../ops/control.js';
import type { Emitter } from './emitter.js';
import type { Translation } from './translator.js';
import { tlbIndexSource, tlbTagSource } from '../../mem/address-space.js';

/** The mandatory prefix the SSE decoder used (F2/F3 win over 66). */
export function prefix(i: Instr): number {
  return i.rep === REP_F3 ? 0xf3 : i.rep === REP_F2 ? 0xf2 : i.p66 ? 0x66 : 0;
}

const lane = (n: number, k: number) => `X[${(n & 15) * 4 + k}]`;

/**
 * Runs body with the offset of i's 16-byte memory operand in the guest
 * memory buffer, when it is inside one page (and 16-byte aligned if
 * required); otherwise the instruction is left to the interpreter (the SSE
 * module), which crosses pages or raises the fault.
 */
function withMem128(g: Emitter, i: Instr, aligned: boolean, write: boolean, body: (al: string, ah: string) => void): void {
  const [al, ah] = g.ea(i);
  const x = g.t();
  const T = write ? 'TW' : 'TR';
  g.emit(`const ${x} = ${tlbIndexSource(al)};`);
  const cond = `((${T}[${x}] === ${tlbTagSource(al, ah)}) & ((${ah} >>> 15) === 0) & ((${al} & 4095) <= 4080)${aligned ? ` & ((${al} & 15) === 0)` : ''}) !== 0`;
  g.guarded(cond, () => body(`${T}[${x} + 1] + (${al} & 4095)`, ah));
}

function load4(g: Emitter, o: string): string[] {
  const v = [g.t(), g.t(), g.t(), g.t()];
  g.emit(`const ${v[0]} = DV.getInt32(${o}, true), ${v[1]} = DV.getInt32(${o} + 4, true), ${v[2]} = DV.getInt32(${o} + 8, true), ${v[3]} = DV.getInt32(${o} + 12, true);`);
  return v;
}

/** dest = f(dest lane, src lane) for k = 0..3, the source a register or an aligned m128. */
function lanewise(g: Emitter, i: Instr, f: (a: string, b: string) => string, aligned = true): void {
  g.usesXmm = true;
  const d = i.reg;
  const apply = (src: string[]) => {
    const r = [0, 1, 2, 3].map((k) => g.val(f(lane(d, k), src[k])));
    g.emit(r.map((v, k) => `${lane(d, k)} = ${v};`).join(' '));
  };
  if (!i.isMem) apply([0, 1, 2, 3].map((k) => lane(i.rm, k)));
  else withMem128(g, i, aligned, false, (o) => apply(load4(g, o)));
}

/** pcmpeqb on one int32 lane: 0xff in each byte where a and b are equal. */
const eqBytes = (a: string, b: string) =>
  `Math.imul(~((((${a} ^ ${b}) & 0x7f7f7f7f) + 0x7f7f7f7f | (${a} ^ ${b})) | 0x7f7f7f7f) >>> 7, 255)`;
const eqWords = (a: string, b: string) =>
  `((((${a} ^ ${b}) & 0xffff) === 0 ? 0xffff : 0) | (((${a} ^ ${b}) >>> 16) === 0 ? -65536 : 0))`;

const moveLoad = (aligned: boolean): Translation => ({
  emit(g, i) {
    g.usesXmm = true;
    const d = i.reg;
    if (!i.isMem) {
      const s = [0, 1, 2, 3].map((k) => g.val(lane(i.rm, k)));
      g.emit(s.map((v, k) => `${lane(d, k)} = ${v};`).join(' '));
      return;
    }
    withMem128(g, i, aligned, false, (o) => {
      const v = load4(g, o);
      g.emit(v.map((t, k) => `${lane(d, k)} = ${t};`).join(' '));
    });
  },
});
const moveStore = (aligned: boolean): Translation => ({
  emit(g, i) {
    g.usesXmm = true;
    const s = i.reg;
    if (!i.isMem) {
      const v = [0, 1, 2, 3].map((k) => g.val(lane(s, k)));
      g.emit(v.map((t, k) => `${lane(i.rm, k)} = ${t};`).join(' '));
      return;
    }
    g.noteStore();
    withMem128(g, i, aligned, true, (o) => {
      g.emit([0, 1, 2, 3].map((k) => `DV.setInt32(${o} + ${4 * k}, ${lane(s, k)}, true);`).join(' '));
    });
  },
});
const bitwise = (f: (a: string, b: string) => string): Translation => ({ emit: (g, i) => lanewise(g, i, f) });

/** pminub/pmaxub: byte lanes through the byte view. */
const bytesMinMax = (min: boolean): Translation => ({
  emit(g, i) {
    g.usesXmm = true;
    const d = (i.reg & 15) * 16;
    const apply = (b: (k: number) => string) => {
      const r: string[] = [];
      for (let k = 0; k < 16; k++) {
        const a = `XB[${d + k}]`, t = g.t();
        g.emit(`const ${t} = ${b(k)};`);
        r.push(`${a} = ${a} ${min ? '<' : '>'} ${t} ? ${a} : ${t};`);
      }
      g.emit(r.join(' '));
    };
    if (!i.isMem) {
      const s = (i.rm & 15) * 16;
      apply((k) => `XB[${s + k}]`);
    } else withMem128(g, i, true, false, (o) => apply((k) => `U8[${o} + ${k}]`));
  },
});

const TABLE = new Map<number, Translation>();
const key = (map: number, pfx: number, op: number) => (map << 16) | (pfx << 8) | op;
function def(map: number, pfx: number, op: number, t: Translation): void {
  TABLE.set(key(map, pfx, op), t);
}

const M0F = 0x0f;
for (const pfx of [0, 0x66]) {
  def(M0F, pfx, 0x10, moveLoad(false)); // movups/movupd
  def(M0F, pfx, 0x28, moveLoad(true)); // movaps/movapd
  def(M0F, pfx, 0x11, moveStore(false));
  def(M0F, pfx, 0x29, moveStore(true));
  def(M0F, pfx, 0x54, bitwise((a, b) => `${a} & ${b}`)); // andps/andpd
  def(M0F, pfx, 0x55, bitwise((a, b) => `~${a} & ${b}`)); // andnps/andnpd
  def(M0F, pfx, 0x56, bitwise((a, b) => `${a} | ${b}`)); // orps/orpd
  def(M0F, pfx, 0x57, bitwise((a, b) => `${a} ^ ${b}`)); // xorps/xorpd
}
def(M0F, 0x66, 0x6f, moveLoad(true)); // movdqa
def(M0F, 0xf3, 0x6f, moveLoad(false)); // movdqu
def(M0F, 0x66, 0x7f, moveStore(true));
def(M0F, 0xf3, 0x7f, moveStore(false));
def(M0F, 0x66, 0xef, bitwise((a, b) => `${a} ^ ${b}`)); // pxor
def(M0F, 0x66, 0xeb, bitwise((a, b) => `${a} | ${b}`)); // por
def(M0F, 0x66, 0xdb, bitwise((a, b) => `${a} & ${b}`)); // pand
def(M0F, 0x66, 0xdf, bitwise((a, b) => `~${a} & ${b}`)); // pandn
def(M0F, 0x66, 0x74, bitwise(eqBytes)); // pcmpeqb
def(M0F, 0x66, 0x75, bitwise(eqWords)); // pcmpeqw
def(M0F, 0x66, 0x76, bitwise((a, b) => `${a} === ${b} ? -1 : 0`)); // pcmpeqd
def(M0F, 0x66, 0xfe, bitwise((a, b) => `(${a} + ${b}) | 0`)); // paddd
def(M0F, 0x66, 0xfa, bitwise((a, b) => `(${a} - ${b}) | 0`)); // psubd
def(M0F, 0x66, 0xda, bytesMinMax(true)); // pminub
def(M0F, 0x66, 0xde, bytesMinMax(false)); // pmaxub

// pmovmskb r32, xmm: the top bit of each byte.
def(M0F, 0x66, 0xd7, {
  emit(g, i) {
    if (i.isMem) return false;
    g.usesXmm = true;
    const parts = [0, 1, 2, 3].map((k) => {
      const v = lane(i.rm, k);
      return `((((${v} >>> 7) & 1) | ((${v} >>> 14) & 2) | ((${v} >>> 21) & 4) | ((${v} >>> 28) & 8)) << ${4 * k})`;
    });
    g.set(i.reg, 4, g.val(parts.join(' | ')));
  },
});

// pshufd xmm, xmm/m128, imm8
def(M0F, 0x66, 0x70, {
  emit(g, i) {
    g.usesXmm = true;
    const sel = (src: string[]) => {
      const v = [0, 1, 2, 3].map((k) => g.val(src[(i.imm >> (2 * k)) & 3]));
      g.emit(v.map((t, k) => `${lane(i.reg, k)} = ${t};`).join(' '));
    };
    if (!i.isMem) sel([0, 1, 2, 3].map((k) => g.val(lane(i.rm, k))));
    else withMem128(g, i, true, false, (o) => sel(load4(g, o)));
  },
});

// movd/movq xmm, r/m32|r/m64: zero-extended into the register.
def(M0F, 0x66, 0x6e, {
  emit(g, i) {
    g.usesXmm = true;
    const size = i.rexW ? 8 : 4;
    const [lo, hi] = g.readRM(i, size);
    const l = g.val(lo), h = size === 8 ? g.val(hi) : '0';
    g.emit(`${lane(i.reg, 0)} = ${l}; ${lane(i.reg, 1)} = ${h}; ${lane(i.reg, 2)} = 0; ${lane(i.reg, 3)} = 0;`);
  },
});
// movd/movq r/m32|r/m64, xmm
def(M0F, 0x66, 0x7e, {
  emit(g, i) {
    g.usesXmm = true;
    const size = i.rexW ? 8 : 4;
    const l = g.val(lane(i.reg, 0)), h = g.val(lane(i.reg, 1));
    if (i.isMem) {
      const [al, ah] = g.ea(i);
      g.store(size, al, ah, l, h);
    } else g.set(i.rm, size, l, h);
  },
});
// movq xmm, xmm/m64 (F3 0F 7E): the upper quadword is zeroed.
def(M0F, 0xf3, 0x7e, {
  emit(g, i) {
    g.usesXmm = true;
    let l: string, h: string;
    if (i.isMem) {
      const [al, ah] = g.ea(i);
      [l, h] = g.load(8, al, ah);
    } else {
      l = g.val(lane(i.rm, 0));
      h = g.val(lane(i.rm, 1));
    }
    g.emit(`${lane(i.reg, 0)} = ${l}; ${lane(i.reg, 1)} = ${h}; ${lane(i.reg, 2)} = 0; ${lane(i.reg, 3)} = 0;`);
  },
});
// movq xmm/m64, xmm (66 0F D6): a register destination has its upper quadword zeroed.
def(M0F, 0x66, 0xd6, {
  emit(g, i) {
    g.usesXmm = true;
    const l = g.val(lane(i.reg, 0)), h = g.val(lane(i.reg, 1));
    if (i.isMem) {
      const [al, ah] = g.ea(i);
      g.store(8, al, ah, l, h);
    } else g.emit(`${lane(i.rm, 0)} = ${l}; ${lane(i.rm, 1)} = ${h}; ${lane(i.rm, 2)} = 0; ${lane(i.rm, 3)} = 0;`);
  },
});

/**
 * The translation of a legacy-encoded SSE instruction the SSE module decoded
 * (not VEX, not an undefined encoding), or undefined.
 */
export function sseTranslation(i: Instr): Translation | undefined {
  if (i.vex || i.exec === C.illegal || i.map !== M0F) return undefined;
  return TABLE.get(key(i.map, prefix(i), i.op));
}
