/** cmpps/cmppd/cmpss/cmpsd (8 predicates) and comis/ucomis. */
import type { Cpu } from '../cpu.js';
import { CF, PF, ZF } from '../cpu.js';
import { F32, F64, S, type Kernel } from './scratch.js';
import { IE, norm32, norm64 } from './mxcsr.js';
import { dazIn } from './float-arith.js';

/** Predicates 1, 2, 5, 6 (lt, le, nlt, nle) signal on QNaN too. */
const SIGNALING = 0x66;

function cmpResult(pred: number, a: number, b: number): boolean {
  switch (pred) {
    case 0: return a === b;
    case 1: return a < b;
    case 2: return a <= b;
    case 3: return a !== a || b !== b;
    case 4: return !(a === b);
    case 5: return !(a < b);
    case 6: return !(a <= b);
    default: return a === a && b === b;
  }
}

function cmp64(c: Cpu, ai: number, bi: number, ri: number, pred: number): void {
  let a = F64[ai], b = F64[bi];
  if (a !== a || b !== b) {
    if ((SIGNALING >> pred) & 1 || (a !== a && !(S[2 * ai + 1] & 0x80000)) || (b !== b && !(S[2 * bi + 1] & 0x80000))) c.mxcsr |= IE;
  } else if (!norm64(a) || !norm64(b)) {
    a = dazIn(c, a, false);
    b = dazIn(c, b, false);
  }
  const v = cmpResult(pred, a, b) ? -1 : 0;
  S[2 * ri] = v;
  S[2 * ri + 1] = v;
}
function cmp32(c: Cpu, ai: number, bi: number, ri: number, pred: number): void {
  let a = F32[ai], b = F32[bi];
  if (a !== a || b !== b) {
    if ((SIGNALING >> pred) & 1 || (a !== a && !(S[ai] & 0x400000)) || (b !== b && !(S[bi] & 0x400000))) c.mxcsr |= IE;
  } else if (!norm32(a) || !norm32(b)) {
    a = dazIn(c, a, true);
    b = dazIn(c, b, true);
  }
  S[ri] = cmpResult(pred, a, b) ? -1 : 0;
}

const PREDICATES = [0, 1, 2, 3, 4, 5, 6, 7];
/** One kernel per predicate (indexed by imm8 & 7), built once so exec functions can be cached per kernel. */
export const cmpps: Kernel[] = PREDICATES.map((pred) => (c: Cpu) => {
  cmp32(c, 0, 4, 8, pred); cmp32(c, 1, 5, 9, pred); cmp32(c, 2, 6, 10, pred); cmp32(c, 3, 7, 11, pred);
});
export const cmppd: Kernel[] = PREDICATES.map((pred) => (c: Cpu) => { cmp64(c, 0, 2, 4, pred); cmp64(c, 1, 3, 5, pred); });
export const cmpss: Kernel[] = PREDICATES.map((pred) => (c: Cpu) => { S[9] = S[1]; S[10] = S[2]; S[11] = S[3]; cmp32(c, 0, 4, 8, pred); });
export const cmpsd: Kernel[] = PREDICATES.map((pred) => (c: Cpu) => { S[10] = S[2]; S[11] = S[3]; cmp64(c, 0, 2, 4, pred); });

/** EFLAGS from an ordered/unordered compare: unordered 111, less CF, equal ZF, greater 000; OF SF AF cleared. */
function setCompareFlags(c: Cpu, a: number, b: number): void {
  const bits = a < b ? CF : a > b ? 0 : a === b ? ZF : ZF | PF | CF;
  // fother holds no arithmetic bits: this replaces exactly the six arithmetic flags.
  c.setEflags(c.fother | bits);
}

/** comisd/ucomisd (signaling: IE on QNaN too for comis). */
function comis64(signaling: boolean): Kernel {
  return (c) => {
    let a = F64[0], b = F64[2];
    if (a !== a || b !== b) {
      if (signaling || (a !== a && !(S[1] & 0x80000)) || (b !== b && !(S[5] & 0x80000))) c.mxcsr |= IE;
    } else if (!norm64(a) || !norm64(b)) {
      a = dazIn(c, a, false);
      b = dazIn(c, b, false);
    }
    setCompareFlags(c, a, b);
  };
}
function comis32(signaling: boolean): Kernel {
  return (c) => {
    let a = F32[0], b = F32[4];
    if (a !== a || b !== b) {
      if (signaling || (a !== a && !(S[0] & 0x400000)) || (b !== b && !(S[4] & 0x400000))) c.mxcsr |= IE;
    } else if (!norm32(a) || !norm32(b)) {
      a = dazIn(c, a, true);
      b = dazIn(c, b, true);
    }
    setCompareFlags(c, a, b);
  };
}


export const comisd = comis64(true), ucomisd = comis64(false), comiss = comis32(true), ucomiss = comis32(false);
