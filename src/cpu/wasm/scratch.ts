/**
 * Copies between a Cpu and the scratch frame (layout in state.ts): before a
 * region runs (the runner) and around a fallback instruction (fallback.ts),
 * the Cpu's lazy flags go in and, after, come back out.
 *
 * The interpreter keeps 32-bit flag operands as int32 halves whose high half
 * may be stale (and 8/16-bit ones with bits above their size): they go in
 * masked to the producer's size, as the regions' own producers leave them,
 * so that regions compare them directly — and no region entry masks them
 * (a region entered from another through the dispatcher gets them masked).
 */
import { ARITH_FLAGS, type Cpu } from '../cpu.js';
import * as S from './state.js';
import { FAST_MASK, PE } from '../sse/mxcsr.js';

const w = (off: number) => off / 4;
const FOP = w(S.S_FOP), FSZ = w(S.S_FSZ), FCIN = w(S.S_FCIN), FL = w(S.S_FL), FRES = w(S.S_FRES), FA = w(S.S_FA), FB = w(S.S_FB);
const FS = w(S.S_FS), GS = w(S.S_GS), DF = w(S.S_DF), MXFAST = w(S.S_MXFAST), REGS = w(S.S_REGS), XMM = w(S.S_REGS + S.XMM_OFFSET);

/** The Cpu's lazy flags into V (the scratch frame as int32s), operands masked to their size. */
export function flagsIn(c: Cpu, V: Int32Array): void {
  const size = c.fsz;
  const m = size === 1 ? 0xff : size === 2 ? 0xffff : -1;
  const whole = size !== 1 && size !== 2 && size !== 4;
  V[FOP] = c.fop;
  V[FSZ] = size;
  V[FCIN] = c.fcin;
  V[FL] = c.fexp;
  V[FRES] = c.fres & m;
  V[FRES + 1] = whole ? c.fresh : 0;
  V[FA] = c.fa & m;
  V[FA + 1] = whole ? c.fah : 0;
  V[FB] = c.fb & m;
  V[FB + 1] = whole ? c.fbh : 0;
}

/** The region's lazy flags from V back into the Cpu. */
export function flagsOut(c: Cpu, V: Int32Array): void {
  c.fop = V[FOP];
  c.fsz = V[FSZ];
  c.fcin = V[FCIN];
  c.fexp = V[FL] & ARITH_FLAGS;
  c.fres = V[FRES];
  c.fresh = V[FRES + 1];
  c.fa = V[FA];
  c.fah = V[FA + 1];
  c.fb = V[FB];
  c.fbh = V[FB + 1];
}

/** What any region may read besides registers and flags: the segment bases, DF and MXCSR's fast state. */
export function basesIn(c: Cpu, V: Int32Array): void {
  V[FS] = c.fsBase | 0;
  V[FS + 1] = Math.floor(c.fsBase / 4294967296) | 0;
  V[GS] = c.gsBase | 0;
  V[GS + 1] = Math.floor(c.gsBase / 4294967296) | 0;
  modesIn(c, V);
}
/** DF and whether MXCSR allows the scalar floating-point fast paths (an instruction the fallback ran may change either). */
export function modesIn(c: Cpu, V: Int32Array): void {
  V[DF] = (c.fother >> 10) & 1;
  V[MXFAST] = ((c.mxcsr & (FAST_MASK & ~PE)) === 0 ? 1 : 0) | ((c.mxcsr & PE) !== 0 ? 2 : 0);
}

/** A Cpu whose registers are not in the pool (made when the pool was full) lends them to the frame: in, and back out. */
export function registersIn(c: Cpu, V: Int32Array): void {
  V.set(c.r, REGS);
  V.set(c.xmm, XMM);
}
export function registersOut(c: Cpu, V: Int32Array): void {
  c.r.set(V.subarray(REGS, REGS + 32));
  c.xmm.set(V.subarray(XMM, XMM + 64));
}
