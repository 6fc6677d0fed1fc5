/**
 * The x87 register stack and status bookkeeping shared by every instruction:
 * physical-register access, tags, push/pop with stack-fault detection, and
 * the end-of-instruction merge of exception flags into FSW.
 *
 * Exceptions: masked responses are always produced. For an unmasked invalid
 * (IE), denormal (DE) or zero-divide (ZE) exception the destination is left
 * unchanged, as on hardware; unmasked overflow/underflow store the masked
 * result (hardware would store an exponent-biased one). An unmasked exception
 * only sets its flag plus ES and B: no #MF / SIGFPE is delivered.
 */
import type { Instr } from '../instr.js';
import type { X87State } from '../x87-state.js';
import { fx, IE, R, SF, setIndefinite, tagOf } from './softfloat.js';

export const C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000, ES = 0x80, BUSY = 0x8000;
export const CC_MASK = C0 | C1 | C2 | C3;
/** Exceptions that keep the destination unchanged when unmasked. */
const PRE_EXC = 1 | 2 | 4;

export function isEmpty(x: X87State, p: number): boolean {
  return ((x.ftw >>> (2 * p)) & 3) === 3;
}
/** Physical register of ST(i). */
export function phys(x: X87State, i: number): number {
  return (x.top + i) & 7;
}
/** Significand halves as int32 (the softfloat convention: see R in softfloat.ts). */
export function regLo(x: X87State, p: number): number {
  return x.regsView.getInt32(p * 10, true);
}
export function regHi(x: X87State, p: number): number {
  return x.regsView.getInt32(p * 10 + 4, true);
}
export function regSe(x: X87State, p: number): number {
  return x.regsView.getUint16(p * 10 + 8, true);
}

/** Writes a physical register and its tag. */
export function writeReg(x: X87State, p: number, se: number, hi: number, lo: number): void {
  const v = x.regsView, o = p * 10;
  v.setInt32(o, lo, true);
  v.setInt32(o + 4, hi, true);
  v.setUint16(o + 8, se, true);
  x.ftw = (x.ftw & ~(3 << (2 * p))) | (tagOf(se, hi, lo) << (2 * p));
}

export function setEmpty(x: X87State, p: number): void {
  x.ftw |= 3 << (2 * p);
}

export function pop(x: X87State): void {
  x.ftw |= 3 << (2 * x.top);
  x.top = (x.top + 1) & 7;
}

/** Stack underflow (reading an empty register): IE + SF, C1 = 0; produces the indefinite. */
export function underflow(): void {
  fx.exc |= IE | SF;
  fx.up = 0;
  setIndefinite();
}

/** Stack overflow (pushing onto a full register): IE + SF, C1 = 1. */
export function overflow(): void {
  fx.exc |= IE | SF;
  fx.up = 1;
}

/** Whether the pending exceptions allow the result to be stored (see file comment). */
export function mayStore(x: X87State): boolean {
  return (fx.exc & ~x.fcw & PRE_EXC) === 0;
}

/** Stores R into physical register p unless an unmasked IE/DE/ZE forbids it; returns whether it did. */
export function storeR(x: X87State, p: number): boolean {
  if ((fx.exc & ~x.fcw & PRE_EXC) !== 0) return false;
  writeReg(x, p, R.se, R.hi, R.lo);
  return true;
}

/**
 * Pushes R. On overflow the masked response pushes the indefinite; with IE
 * unmasked nothing changes. Returns whether the push happened.
 */
export function pushR(x: X87State): boolean {
  const p = (x.top - 1) & 7;
  if (!isEmpty(x, p)) {
    overflow();
    if (x.fcw & IE) setIndefinite();
  }
  if ((fx.exc & ~x.fcw & PRE_EXC) !== 0) return false;
  x.top = p;
  writeReg(x, p, R.se, R.hi, R.lo);
  return true;
}

/** Starts a non-control instruction: clears the scratch flags, records FIP and FOP. */
export function begin(x: X87State, i: Instr): void {
  fx.exc = 0;
  fx.up = 0;
  fx.pendDE = 0;
  x.fip = i.addr;
  x.fop = i.sub2;
}

/** Ends an instruction: merges the flags into FSW, C1 from the round-up / stack-fault indicator, ES and B. */
export function commit(x: X87State): void {
  let fsw = x.fsw | (fx.exc & 0x7f);
  fsw = fx.up ? fsw | C1 : fsw & ~C1;
  if (fsw & ~x.fcw & 0x3f) fsw |= ES | BUSY;
  x.fsw = fsw;
}

/** Sets the condition codes selected by mask to bits (after commit). */
export function setCC(x: X87State, mask: number, bits: number): void {
  x.fsw = (x.fsw & ~mask) | (bits & mask);
}

/** Precision control (FCW bits 8-9) and rounding control (bits 10-11). */
export function pcOf(x: X87State): number {
  return (x.fcw >>> 8) & 3;
}
export function rcOf(x: X87State): number {
  return (x.fcw >>> 10) & 3;
}

/** Recomputes the tags of non-empty registers from their contents (after fxrstor/frstor/fldenv). */
export function retag(x: X87State, nonEmptyMask: number): void {
  let ftw = 0;
  for (let p = 0; p < 8; p++) {
    const t = nonEmptyMask & (1 << p) ? tagOf(regSe(x, p), regHi(x, p), regLo(x, p)) : 3;
    ftw |= t << (2 * p);
  }
  x.ftw = ftw;
}
