/**
 * The x87 oracle cases (test/x87.test.ts runs them natively and on the
 * emulator; test/isa-coverage.test.ts counts the instruction forms they
 * cover). Deterministic: a fixed-seed generator, built in one order.
 *
 * Set X87_CASES=<n> to change the number of random cases per instruction.
 */

import { numberToSt80 } from '../src/cpu/x87/index.js';

const CASES = Number(process.env.X87_CASES ?? 160);

export interface Case {
  /** Instruction bytes; memory operands must be [rdi] or [rdi+disp]. */
  code: number[];
  cw: number;
  flags: number;
  rax: bigint;
  rdx: bigint;
  memlen: number;
  mem: Uint8Array;
  /** ST(0) first. */
  regs: Uint8Array[];
  /** Byte ranges [start, end) of the memory buffer not to compare. */
  ignoreMem?: [number, number][];
  /** Allowed ulp difference in register results (transcendentals). */
  ulps?: number;
  label: string;
}

// ------------------------------------------------------------------ random inputs

let seed = 0x12345678;
function rnd(): number {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
const rint = (n: number): number => rnd() % n;
const pick = <T>(a: T[]): T => a[rint(a.length)];

function v80(se: number, hi: number, lo: number): Uint8Array {
  const b = new Uint8Array(10);
  const v = new DataView(b.buffer);
  v.setUint32(0, lo >>> 0, true);
  v.setUint32(4, hi >>> 0, true);
  v.setUint16(8, se & 0xffff, true);
  return b;
}
const fromNum = (n: number): Uint8Array => {
  const b = new Uint8Array(10);
  numberToSt80(n, b, 0);
  return b;
};

/** Significand low-bit patterns that sit on the rounding boundaries of the three precisions. */
function roundingSig(): [number, number] {
  let hi = (rnd() | 0x80000000) >>> 0, lo = rnd();
  switch (rint(6)) {
    case 0: lo = (lo & ~0x7ff) | pick([0x400, 0x3ff, 0x401, 0, 0x7ff, 0xc00 & 0x7ff]); break;
    case 1: hi = (hi & ~0xff) | pick([0x80, 0x7f, 0x81, 0, 0xff]); lo = pick([0, 1, 0xffffffff, rnd()]); break;
    case 2: lo = pick([0, 1, 0xffffffff, 0x80000000]); break;
    case 3: hi = pick([0x80000000, 0xffffffff, 0xffffff00]); lo = pick([0, 0xffffffff, 0xfffff800]); break;
  }
  return [hi >>> 0, lo >>> 0];
}

function randSign(): number {
  return rint(2) << 15;
}

/** A random 80-bit operand covering every class. */
function any80(): Uint8Array {
  const s = randSign();
  const r = rint(100);
  if (r < 4) return v80(s, 0, 0);
  if (r < 7) return v80(s | 0x7fff, 0x80000000, 0);
  if (r < 10) return rint(3) === 0 ? v80(0xffff, 0xc0000000, 0) : v80(s | 0x7fff, (0xc0000000 | rnd()) >>> 0, rnd());
  if (r < 13) return v80(s | 0x7fff, (0x80000000 | (rnd() & 0x3fffffff) | 1) >>> 0, rnd());
  if (r < 17) return v80(s, rnd() >>> rint(32), rnd());
  if (r < 18) return v80(s, (0x80000000 | rnd()) >>> 0, rnd()); // pseudo-denormal
  if (r < 19) return v80(s | (1 + rint(0x7ffe)), rnd() & 0x7fffffff, rnd()); // unnormal
  if (r < 20) return v80(s | 0x7fff, rnd() & 0x7fffffff, rnd()); // pseudo-NaN / pseudo-infinity
  if (r < 22) return pick([v80(s | 1, 0x80000000, 0), v80(s | 0x7ffe, 0xffffffff, 0xffffffff)]);
  if (r < 30) return fromNum((rint(201) - 100) * (rint(4) === 0 ? 0.25 : 1));
  const [hi, lo] = roundingSig();
  if (r < 50) return v80(s | (0x3fff - 10 + rint(21)), hi, lo);
  if (r < 65) return v80(s | (0x3fff - 80 + rint(161)), hi, lo);
  if (r < 78) return v80(s | (1 + rint(0x7ffe)), hi, lo);
  if (r < 90) return v80(s | (rint(2) ? 1 + rint(70) : 0x7ffe - rint(70)), hi, lo);
  // Values exactly representable in fewer bits, nudged.
  const h2 = (hi & pick([0xffffff00, 0xffffffff])) >>> 0;
  return v80(s | (0x3fff - 30 + rint(61)), h2, rint(2) ? 0 : lo & 0xfffff800);
}

/** A finite normal value with exponent around e0 ± spread. */
function normal80(e0: number, spread: number): Uint8Array {
  const [hi, lo] = roundingSig();
  return v80(randSign() | Math.max(1, Math.min(0x7ffe, e0 - spread + rint(2 * spread + 1))), hi, lo);
}

/** A second operand related to the first (cancellation, equal values, near exponents). */
function related80(a: Uint8Array): Uint8Array {
  const v = new DataView(a.buffer, a.byteOffset, 10);
  const se = v.getUint16(8, true), hi = v.getUint32(4, true), lo = v.getUint32(0, true);
  switch (rint(6)) {
    case 0: return v80(se ^ 0x8000, hi, lo);
    case 1: return v80(se, hi, lo);
    case 2: return v80(se ^ (rint(2) << 15), hi, (lo ^ (1 << rint(32))) >>> 0);
    case 3: {
      const [h, l] = roundingSig();
      const e = (se & 0x7fff) + rint(141) - 70;
      return v80((rint(2) << 15) | Math.max(1, Math.min(0x7ffe, e)), h, l);
    }
    default: return any80();
  }
}

function f32bits(): number {
  const s = rint(2) << 31;
  switch (rint(8)) {
    case 0: return s >>> 0;
    case 1: return (s | (rnd() & 0x7fffff)) >>> 0; // denormal
    case 2: return (s | 0x7f800000) >>> 0;
    case 3: return (s | 0x7fc00000 | (rnd() & 0x3fffff)) >>> 0;
    case 4: return (s | 0x7f800000 | (rnd() & 0x3fffff) | 1) >>> 0; // SNaN
    default: return (s | ((1 + rint(254)) << 23) | (rnd() & 0x7fffff)) >>> 0;
  }
}
function f64bytes(): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  const s = rint(2) << 31;
  let hi: number, lo = rnd();
  switch (rint(8)) {
    case 0: hi = s; lo = 0; break;
    case 1: hi = s | (rnd() & 0xfffff); break;
    case 2: hi = s | 0x7ff00000; lo = 0; break;
    case 3: hi = s | 0x7ff80000 | (rnd() & 0x7ffff); break;
    case 4: hi = s | 0x7ff00000 | (rnd() & 0x7ffff); lo |= 1; break;
    default: hi = s | ((1 + rint(2046)) << 20) | (rnd() & 0xfffff);
  }
  v.setUint32(0, lo >>> 0, true);
  v.setUint32(4, hi >>> 0, true);
  return b;
}
function intBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  const r = rint(6);
  for (let k = 0; k < n; k++) b[k] = rnd() & 0xff;
  if (r === 0) b.fill(0);
  else if (r === 1) { b.fill(0); b[n - 1] = 0x80; }
  else if (r === 2) { b.fill(0xff); b[n - 1] = 0x7f; }
  else if (r === 3) { b.fill(0xff); }
  else if (r === 4) { for (let k = 1; k < n; k++) b[k] = b[n - 1] & 0x80 ? 0xff : 0; }
  return b;
}
function bcdBytes(): Uint8Array {
  const b = new Uint8Array(10);
  const digits = rint(19);
  for (let k = 0; k < digits; k++) {
    const d = rint(10);
    b[k >> 1] |= k & 1 ? d << 4 : d;
  }
  b[9] = rint(2) ? 0x80 : 0;
  return b;
}

/** A control word: all exceptions masked, random precision and rounding. */
function randCw(): number {
  return 0x7f | (pick([0, 2, 3, 3, 1]) << 8) | (rint(4) << 10);
}

function mk(label: string, code: number[], regs: Uint8Array[], memBytes: Uint8Array = new Uint8Array(0), memlen = 16, extra: Partial<Case> = {}): Case {
  return { label, code, cw: randCw(), flags: 0x202, rax: 0n, rdx: 0n, memlen, mem: memBytes, regs, ...extra };
}

/** A full stack (8 regs) made of a, b and random fillers, or fewer for underflow tests. */
function stack(a: Uint8Array, b?: Uint8Array): Uint8Array[] {
  const regs = [a, b ?? any80()];
  const n = rint(20) === 0 ? rint(3) : 8;
  while (regs.length < 8) regs.push(any80());
  return regs.slice(0, n);
}

/** ModRM for [rdi] with /digit r. */
const M = (r: number): number => (r << 3) | 7;

// ------------------------------------------------------------------ tests

function cases0(): Case[] {
  const cases: Case[] = [];
  for (const [op, name, gen] of [
    [0xd8, 'm32', () => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, f32bits(), true); return b; }],
    [0xdc, 'm64', f64bytes],
    [0xda, 'm32int', () => intBytes(4)],
    [0xde, 'm16int', () => intBytes(2)],
  ] as [number, string, () => Uint8Array][]) {
    for (let r = 0; r < 8; r++) {
      for (let k = 0; k < CASES; k++) cases.push(mk(`${op.toString(16)}/${r} ${name}`, [op, M(r)], stack(any80()), gen()));
    }
  }
  return cases;
}

function cases1(): Case[] {
  const cases: Case[] = [];
  for (const op of [0xd8, 0xdc, 0xde]) {
    for (const r of [0, 1, 4, 5, 6, 7]) {
      for (let k = 0; k < CASES * 2; k++) {
        const sti = rint(8);
        const a = any80();
        const regs = stack(a, related80(a));
        if (sti > 1 && regs.length > sti) regs[sti] = related80(a);
        cases.push(mk(`${op.toString(16)} /${r} st${sti}`, [op, 0xc0 | (r << 3) | sti], regs));
      }
    }
  }
  return cases;
}

function cases2(): Case[] {
  const cases: Case[] = [];
  for (let k = 0; k < CASES * 3; k++) cases.push(mk('fsqrt', [0xd9, 0xfa], stack(rint(3) ? normal80(0x3fff, 16400).map((v, j) => (j === 9 ? v & 0x7f : v)) : any80())));
  for (let k = 0; k < CASES * 2; k++) cases.push(mk('frndint', [0xd9, 0xfc], stack(rint(4) ? normal80(0x3fff + 20, 24) : any80())));
  for (let k = 0; k < CASES * 2; k++) {
    const n = pick([fromNum(rint(141) - 70), fromNum((rint(4001) - 2000) / 7), fromNum(rint(2) ? 17000 : -17000), fromNum(rint(40000) - 20000), any80()]);
    cases.push(mk('fscale', [0xd9, 0xfd], stack(rint(4) ? normal80(0x3fff, 16383) : any80(), n)));
  }
  for (let k = 0; k < CASES; k++) cases.push(mk('fxtract', [0xd9, 0xf4], rint(10) ? stack(any80()).slice(0, 7) : stack(any80())));
  for (let k = 0; k < CASES / 2; k++) cases.push(mk('fchs', [0xd9, 0xe0], stack(any80())));
  for (let k = 0; k < CASES / 2; k++) cases.push(mk('fabs', [0xd9, 0xe1], stack(any80())));
  for (const code of [0xf8, 0xf5]) {
    for (let k = 0; k < CASES * 2; k++) {
      const b = rint(5) ? normal80(0x3fff, 200) : any80();
      const be = (b[9] << 8 | b[8]) & 0x7fff;
      const a = rint(5) ? normal80(be + 30, pick([3, 40, 100])) : any80();
      cases.push(mk(code === 0xf8 ? 'fprem' : 'fprem1', [0xd9, code], stack(a, b)));
    }
  }
  return cases;
}

function cases3(): Case[] {
  const cases: Case[] = [];
  const depth = () => (rint(10) === 0 ? 8 : rint(8));
  const fill = (n: number) => Array.from({ length: n }, any80);
  for (let k = 0; k < CASES; k++) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, f32bits(), true);
    cases.push(mk('fld m32', [0xd9, M(0)], fill(depth()), b));
    cases.push(mk('fld m64', [0xdd, M(0)], fill(depth()), f64bytes()));
    cases.push(mk('fld m80', [0xdb, M(5)], fill(depth()), any80()));
    cases.push(mk('fild m16', [0xdf, M(0)], fill(depth()), intBytes(2)));
    cases.push(mk('fild m32', [0xdb, M(0)], fill(depth()), intBytes(4)));
    cases.push(mk('fild m64', [0xdf, M(5)], fill(depth()), intBytes(8)));
    cases.push(mk('fbld', [0xdf, M(4)], fill(depth()), bcdBytes()));
    const n = depth();
    cases.push(mk('fld st(i)', [0xd9, 0xc0 | rint(8)], fill(n)));
  }
  for (let c = 0; c < 7; c++) for (let k = 0; k < 24; k++) cases.push(mk(`fldconst ${c}`, [0xd9, 0xe8 + c], fill(rint(9))));
  return cases;
}

function cases4(): Case[] {
  const cases: Case[] = [];
  const intish = () => pick([normal80(0x3fff + 15, 2), normal80(0x3fff + 31, 2), normal80(0x3fff + 63, 2), normal80(0x3fff, 5), fromNum((rint(2001) - 1000) / 2), any80()]);
  for (let k = 0; k < CASES * 2; k++) {
    const src = () => pick([any80(), normal80(0x3fff, 140), normal80(0x3fff - 126, 30), normal80(0x3fff + 127, 3), normal80(0x3fff - 1022, 60), normal80(0x3fff + 1023, 3)]);
    cases.push(mk('fst m32', [0xd9, M(2)], stack(src())));
    cases.push(mk('fstp m32', [0xd9, M(3)], stack(src())));
    cases.push(mk('fst m64', [0xdd, M(2)], stack(src())));
    cases.push(mk('fstp m64', [0xdd, M(3)], stack(src())));
    cases.push(mk('fstp m80', [0xdb, M(7)], stack(any80())));
    cases.push(mk('fist m16', [0xdf, M(2)], stack(intish())));
    cases.push(mk('fistp m16', [0xdf, M(3)], stack(intish())));
    cases.push(mk('fisttp m16', [0xdf, M(1)], stack(intish())));
    cases.push(mk('fist m32', [0xdb, M(2)], stack(intish())));
    cases.push(mk('fistp m32', [0xdb, M(3)], stack(intish())));
    cases.push(mk('fisttp m32', [0xdb, M(1)], stack(intish())));
    cases.push(mk('fistp m64', [0xdf, M(7)], stack(intish())));
    cases.push(mk('fisttp m64', [0xdd, M(1)], stack(intish())));
    cases.push(mk('fbstp', [0xdf, M(6)], stack(pick([normal80(0x3fff + 59, 3), normal80(0x3fff + 20, 20), any80()]))));
    cases.push(mk('fst st(i)', [0xdd, 0xd0 | rint(8)], stack(any80())));
    cases.push(mk('fstp st(i)', [0xdd, 0xd8 | rint(8)], stack(any80())));
  }
  return cases;
}

function cases5(): Case[] {
  const cases: Case[] = [];
  for (let k = 0; k < CASES; k++) {
    const a = any80(), b = related80(a);
    const sti = 1 + rint(7);
    const flags = pick([0x202, 0x202 | 0x8d5]);
    const regs = () => {
      const r = stack(a, b);
      if (r.length > sti) r[sti] = b;
      return r;
    };
    const b4 = new Uint8Array(4);
    new DataView(b4.buffer).setUint32(0, f32bits(), true);
    for (const [name, code] of [
      ['fcom', [0xd8, 0xd0 | sti]], ['fcomp', [0xd8, 0xd8 | sti]], ['fcompp', [0xde, 0xd9]],
      ['fucom', [0xdd, 0xe0 | sti]], ['fucomp', [0xdd, 0xe8 | sti]], ['fucompp', [0xda, 0xe9]],
      ['fcomi', [0xdb, 0xf0 | sti]], ['fucomi', [0xdb, 0xe8 | sti]], ['fcomip', [0xdf, 0xf0 | sti]], ['fucomip', [0xdf, 0xe8 | sti]],
      ['ftst', [0xd9, 0xe4]], ['fxam', [0xd9, 0xe5]],
    ] as [string, number[]][]) cases.push(mk(name, code, name === 'fxam' && rint(8) === 0 ? [] : regs(), undefined, 16, { flags }));
    cases.push(mk('fcom m32', [0xd8, M(2)], regs(), b4));
    cases.push(mk('fcomp m64', [0xdc, M(3)], regs(), f64bytes()));
    cases.push(mk('ficom m16', [0xde, M(2)], regs(), intBytes(2)));
    cases.push(mk('ficomp m32', [0xda, M(3)], regs(), intBytes(4)));
  }
  return cases;
}

function cases6(): Case[] {
  const cases: Case[] = [];
  for (let k = 0; k < CASES; k++) {
    const sti = rint(8);
    const n = rint(6) === 0 ? rint(8) : 8;
    const regs = Array.from({ length: n }, any80);
    const flags = 0x202 | (rnd() & 0x8d5);
    for (let cc = 0; cc < 8; cc++) cases.push(mk(`fcmov${cc}`, [cc < 4 ? 0xda : 0xdb, 0xc0 | ((cc & 3) << 3) | sti], regs, undefined, 16, { flags }));
    cases.push(mk('fxch', [0xd9, 0xc8 | sti], regs));
    cases.push(mk('ffree', [0xdd, 0xc0 | sti], regs));
    cases.push(mk('ffreep', [0xdf, 0xc0 | sti], regs));
    cases.push(mk('fincstp', [0xd9, 0xf7], regs));
    cases.push(mk('fdecstp', [0xd9, 0xf6], regs));
    // The undocumented aliases the hardware executes (see src/cpu/x87/decode.ts).
    for (const [name, code] of [
      ['fstp1', [0xd9, 0xd8 | sti]], ['fcom2', [0xdc, 0xd0 | sti]], ['fcomp3', [0xdc, 0xd8 | sti]], ['fxch4', [0xdd, 0xc8 | sti]],
      ['fcomp5', [0xde, 0xd0 | sti]], ['fxch7', [0xdf, 0xc8 | sti]], ['fstp8', [0xdf, 0xd0 | sti]], ['fstp9', [0xdf, 0xd8 | sti]],
      ['feni', [0xdb, 0xe0]], ['fdisi', [0xdb, 0xe1]], ['fsetpm', [0xdb, 0xe4]],
    ] as [string, number[]][]) {
      // AMD's fstp1 with an empty ST(0) only pops (no IE/SF, nothing stored); elfshim does what fstp does (docs/ARCHITECTURE.md).
      if (name === 'fstp1' && regs.length === 0) continue;
      cases.push(mk(name, code, regs, undefined, 16, { flags }));
    }
    cases.push(mk('fnop', [0xd9, 0xd0], regs));
    // A flag-raising operation followed by a status/control instruction.
    cases.push(mk('fdiv;fnstsw ax', [0xdc, 0xf9, 0xdf, 0xe0], regs, undefined, 16, { rax: 0x1122334455667788n }));
    cases.push(mk('fadd;fnstsw m16', [0xd8, 0xc1, 0xdd, M(7)], regs));
    cases.push(mk('fsqrt;fnclex', [0xd9, 0xfa, 0xdb, 0xe2], regs));
    cases.push(mk('fadd;fninit', [0xd8, 0xc1, 0xdb, 0xe3], regs));
    cases.push(mk('fnstcw', [0xd9, M(7)], regs));
    const cw = new Uint8Array(2);
    new DataView(cw.buffer).setUint16(0, (rnd() & 0xffff) | 0x3f, true);
    cases.push(mk('fldcw;fadd', [0xd9, M(5), 0xd8, 0xc1], regs, cw));
    // Unmasking an exception that is already flagged makes it pending (ES, B). Nothing
    // waits afterwards (the oracle's fnsave is a no-wait instruction), so no #MF.
    const cw2 = new Uint8Array(2);
    new DataView(cw2.buffer).setUint16(0, rnd() & 0xffff, true);
    cases.push(mk('fdiv;fldcw unmask', [0xdc, 0xf9, 0xd9, M(5)], regs, cw2));
  }
  return cases;
}

/** A random but valid x87 environment image (exceptions masked so nothing is pending). */
function envImage(is16: boolean): Uint8Array {
  const b = new Uint8Array(is16 ? 14 : 28);
  const v = new DataView(b.buffer);
  const cw = randCw();
  const sw = (rnd() & 0x477f & ~0x80) | (rint(8) << 11);
  const tw = rnd() & 0xffff;
  if (is16) {
    v.setUint16(0, cw, true);
    v.setUint16(2, sw, true);
    v.setUint16(4, tw, true);
  } else {
    v.setUint32(0, 0xffff0000 | cw, true);
    v.setUint32(4, 0xffff0000 | sw, true);
    v.setUint32(8, 0xffff0000 | tw, true);
    v.setUint32(12, rnd(), true);
    v.setUint32(16, (rnd() & 0x7ff) << 16, true);
    v.setUint32(20, rnd(), true);
  }
  return b;
}

function cases7(): Case[] {
  const cases: Case[] = [];
  const ign32: [number, number][] = [[12, 28]];
  for (let k = 0; k < CASES; k++) {
    const regs = stack(any80());
    cases.push(mk('fadd;fnstenv', [0xd8, 0xc1, 0xd9, M(6)], regs, undefined, 32, { ignoreMem: ign32 }));
    cases.push(mk('fadd;fnsave', [0xd8, 0xc1, 0xdd, M(6)], regs, undefined, 112, { ignoreMem: ign32 }));
    cases.push(mk('fnstenv16', [0x66, 0xd9, M(6)], regs, undefined, 16, { ignoreMem: [[6, 14]] }));
    cases.push(mk('fnsave16', [0x66, 0xdd, M(6)], regs, undefined, 96, { ignoreMem: [[6, 14]] }));
    const env = envImage(false);
    cases.push(mk('fldenv', [0xd9, M(4)], regs, env, 28));
    // An image with unmasked exceptions and arbitrary ES/B bits.
    const env2 = envImage(false);
    env2[0] = rnd() & 0x7f;
    env2[2] = rnd() & 0xff;
    env2[3] = rnd() & 0xff;
    env2[4] |= rnd() & 0x80;
    env2[5] |= rnd() & 0x80;
    cases.push(mk('fldenv unmasked', [0xd9, M(4)], regs, env2, 28));
    const img = new Uint8Array(108);
    img.set(envImage(false));
    for (let j = 0; j < 8; j++) img.set(any80(), 28 + 10 * j);
    cases.push(mk('frstor', [0xdd, M(4)], regs, img, 108));
    const img16 = new Uint8Array(94);
    img16.set(envImage(true));
    for (let j = 0; j < 8; j++) img16.set(any80(), 14 + 10 * j);
    cases.push(mk('frstor16', [0x66, 0xdd, M(4)], regs, img16, 94));
    cases.push(mk('fldenv16', [0x66, 0xd9, M(4)], regs, envImage(true), 14));
  }
  return cases;
}

/** fxsave-format image with random x87 state, MXCSR 0x1f80 and random XMM registers. */
function fxImage(): Uint8Array {
  const b = new Uint8Array(512);
  const v = new DataView(b.buffer);
  v.setUint16(0, randCw(), true);
  v.setUint16(2, (rnd() & 0x477f & ~0x80) | (rint(8) << 11), true);
  b[4] = rnd() & 0xff;
  v.setUint32(24, 0x1f80 | (rnd() & 0x6000), true);
  for (let j = 0; j < 8; j++) b.set(any80(), 32 + 16 * j);
  for (let j = 160; j < 416; j++) b[j] = rnd() & 0xff;
  return b;
}

function cases8(): Case[] {
  const cases: Case[] = [];
  // FIP/FDP/FOP (AMD stores them only with an exception pending) and MXCSR_MASK are not compared.
  const ign: [number, number][] = [[6, 24], [28, 32]];
  const ignHi: [number, number][] = [[512 + 6, 512 + 24], [512 + 28, 512 + 32]];
  for (let k = 0; k < CASES / 2; k++) {
    const regs = stack(any80());
    cases.push(mk('fxsave', [0x0f, 0xae, M(0)], regs, undefined, 512, { ignoreMem: ign }));
    cases.push(mk('fxsave64', [0x48, 0x0f, 0xae, M(0)], regs, undefined, 512, { ignoreMem: ign }));
    // (EDX:EAX = 7 would differ by design: the host's XCR0 has AVX, elfshim's is 3.)
    for (const rax of [1n, 2n, 3n]) {
      cases.push(mk(`xsave ${rax}`, [0x0f, 0xae, M(4)], regs, undefined, 576, { ignoreMem: ign, rax }));
      cases.push(mk(`xsavec ${rax}`, [0x0f, 0xc7, M(4)], regs, undefined, 576, { ignoreMem: ign, rax }));
      cases.push(mk(`xsave64 ${rax}`, [0x48, 0x0f, 0xae, M(4)], regs, undefined, 576, { ignoreMem: ign, rax }));
    }
    // Restore an image, then save it again 512 bytes further (compares XMM and MXCSR too).
    const img = fxImage();
    cases.push(mk('fxrstor;fxsave', [0x0f, 0xae, M(1), 0x0f, 0xae, 0x87, 0, 2, 0, 0], regs, img, 1024, { ignoreMem: [...ign, ...ignHi] }));
    cases.push(mk('fxrstor64;fxsave64', [0x48, 0x0f, 0xae, M(1), 0x48, 0x0f, 0xae, 0x87, 0, 2, 0, 0], regs, img, 1024, { ignoreMem: [...ign, ...ignHi] }));
    const xs = new Uint8Array(576);
    xs.set(img);
    xs[512] = rint(4);
    for (const rax of [1n, 2n, 3n]) {
      cases.push(mk(`xrstor ${rax};fxsave`, [0x0f, 0xae, M(5), 0x0f, 0xae, 0x87, 0, 4, 0, 0], regs, xs, 1536, { ignoreMem: [...ign, [1024 + 6, 1024 + 24], [1024 + 28, 1024 + 32]], rax }));
      cases.push(mk(`xrstor64 ${rax};fxsave`, [0x48, 0x0f, 0xae, M(5), 0x0f, 0xae, 0x87, 0, 4, 0, 0], regs, xs, 1536, { ignoreMem: [...ign, [1024 + 6, 1024 + 24], [1024 + 28, 1024 + 32]], rax }));
    }
  }
  return cases;
}

function cases9(): Case[] {
  const cases: Case[] = [];
  const n = Math.max(8, CASES / 2);
  const t = (label: string, code: number[], regs: Uint8Array[]) => cases.push(mk(label, code, regs, undefined, 16, { ulps: Number(process.env.X87_TRANS_ULPS ?? 1) }));
  for (let k = 0; k < n; k++) {
    // f2xm1 is undefined outside [-1, 1] (AMD returns odd values there).
    t('f2xm1', [0xd9, 0xf0], stack(rint(8) ? v80(randSign() | (0x3fff - 1 - rint(rint(2) ? 3 : 70)), (0x80000000 | rnd()) >>> 0, rnd()) : pick([v80(0, 0, 0), v80(0x8000, 0, 0), v80(0x7fff, 0x80000000, 0), v80(0xffff, 0x80000000, 0), v80(0x7fff, 0xc0000001, 0), v80(0x3fff, 0x80000000, 0), v80(0xbfff, 0x80000000, 0)])));
    t('fyl2x', [0xd9, 0xf1], stack(rint(6) ? normal80(0x3fff, rint(2) ? 2 : 3000).map((v, j) => (j === 9 ? v & 0x7f : v)) : any80(), rint(4) ? normal80(0x3fff, 20) : any80()));
    // fyl2xp1 is only defined for |x| < 1 - sqrt(2)/2.
    t('fyl2xp1', [0xd9, 0xf9], stack(rint(8) ? normal80(0x3fff - 22, 20) : pick([v80(0, 0, 0), v80(0x8000, 0, 0), v80(0x7fff, 0xc0000001, 0)]), rint(4) ? normal80(0x3fff, 20) : any80()));
    t('fpatan', [0xd9, 0xf3], stack(rint(6) ? normal80(0x3fff, 30) : any80(), rint(6) ? normal80(0x3fff, 30) : any80()));
    const arg = () => pick([normal80(0x3fff, 12), normal80(0x3fff - 30, 30), normal80(0x3fff + 40, 23), any80(), fromNum(Math.PI * (rint(200) - 100) / 2)]);
    t('fsin', [0xd9, 0xfe], stack(arg()));
    t('fcos', [0xd9, 0xff], stack(arg()));
    t('fptan', [0xd9, 0xf2], rint(8) ? stack(arg()).slice(0, 7) : stack(arg()));
    t('fsincos', [0xd9, 0xfb], rint(8) ? stack(arg()).slice(0, 7) : stack(arg()));
  }
  return cases;
}

/** Every group of oracle cases, titled as the tests that run them. */
export function x87CaseGroups(): { title: string; cases: Case[] }[] {
  return [
    { title: 'x87 arithmetic with memory operands (m32, m64, m16int, m32int)', cases: cases0() },
    { title: 'x87 arithmetic register forms (D8, DC, DE) incl. every rounding/precision', cases: cases1() },
    { title: 'x87 fsqrt, frndint, fscale, fxtract, fchs, fabs, fprem, fprem1', cases: cases2() },
    { title: 'x87 loads: fld m32/m64/m80/ST(i), fild m16/m32/m64, fbld, constants', cases: cases3() },
    { title: 'x87 stores: fst/fstp m32/m64/m80/ST(i), fist/fistp/fisttp m16/m32/m64, fbstp', cases: cases4() },
    { title: 'x87 compares: fcom/fucom/fcomi/fucomi/ficom/ftst/fxam and pops', cases: cases5() },
    { title: 'x87 fxch, fcmovcc, ffree, ffreep, fincstp, fdecstp, fnop, fnstsw, fnclex, fninit', cases: cases6() },
    { title: 'x87 fnstenv/fldenv/fnsave/frstor (32- and 16-bit layouts)', cases: cases7() },
    { title: 'fxsave/fxrstor/xsave/xrstor/xsavec against the host', cases: cases8() },
    { title: 'x87 transcendentals (within 1 ulp of the host)', cases: cases9() },
  ];
}
