/**
 * fxsave/fxrstor (0F AE /0 /1, REX.W = fxsave64/fxrstor64) and
 * xsave/xrstor/xsaveopt (0F AE /4 /5 /6) plus xsavec (0F C7 /4) for the
 * x87 and SSE state components (XCR0 = 3).
 *
 * Legacy region (512 bytes):
 *   0 FCW, 2 FSW, 4 abridged FTW, 5 reserved, 6 FOP,
 *   8 FIP (64-bit with REX.W; else FIP32 + FCS16 + 2 reserved),
 *   16 FDP (likewise; FDS16 for the 32-bit form), 24 MXCSR, 28 MXCSR_MASK,
 *   32 ST(0)..ST(7) in 16-byte slots (6 reserved bytes written as 0),
 *   160 XMM0..XMM15, 416..511 not written.
 * XSAVE header at 512: XSTATE_BV (bits in RFBM rewritten, others kept),
 * XCOMP_BV (written by xsavec only); the rest of the header is not written.
 *
 * Not modelled: the #GP for a misaligned area, reserved MXCSR bits, or an
 * invalid XSAVE header (reserved MXCSR bits are silently cleared instead).
 */
import type { Cpu } from '../cpu.js';
import type { ExecFn } from '../instr.js';
import { fninitState, updateES } from './control.js';
import { regHi, regLo, regSe, retag } from './stack.js';

export const MXCSR_MASK = 0x0000ffff;
/** What XGETBV(0) reports: x87 | SSE. */
export const XCR0 = 3;

const TWO32 = 4294967296;

function write64Num(c: Cpu, a: number, v: number): void {
  c.mem.write64(a, v % TWO32 | 0, Math.floor(v / TWO32) | 0);
}

/** Stores the x87 part of the legacy region (FCW..FDP and the registers). */
function saveX87(c: Cpu, a: number, rexW: boolean): void {
  const x = c.x87, m = c.mem;
  for (let k = 0; k < 8; k++) {
    const p = (x.top + k) & 7, o = a + 32 + 16 * k;
    m.write64(o, regLo(x, p) | 0, regHi(x, p) | 0);
    m.write64(o + 8, regSe(x, p), 0);
  }
  m.write16(a, x.fcw);
  m.write16(a + 2, x.statusWord);
  m.write16(a + 4, x.abridgedTag);
  m.write16(a + 6, x.fop & 0x7ff);
  if (rexW) {
    write64Num(c, a + 8, x.fip);
    write64Num(c, a + 16, x.fdp);
  } else {
    m.write64(a + 8, x.fip % TWO32 | 0, 0);
    m.write64(a + 16, x.fdp % TWO32 | 0, 0);
  }
}

function saveMxcsr(c: Cpu, a: number): void {
  c.mem.write32(a + 24, c.mxcsr);
  c.mem.write32(a + 28, MXCSR_MASK);
}

function saveXmm(c: Cpu, a: number): void {
  for (let k = 0; k < 64; k += 2) c.mem.write64(a + 160 + 4 * k, c.xmm[k], c.xmm[k + 1]);
}

/** Loads the x87 part of the legacy region (reads everything before changing state). */
function loadX87(c: Cpu, a: number, rexW: boolean): void {
  const x = c.x87, m = c.mem;
  const img = scratch;
  for (let k = 0; k < 8; k++) {
    const o = a + 32 + 16 * k;
    const lo = m.read64(o);
    img[3 * k] = lo;
    img[3 * k + 1] = m.hi;
    img[3 * k + 2] = m.read16(o + 8);
  }
  const fcw = m.read16(a), fsw = m.read16(a + 2), tag = m.read8(a + 4), fop = m.read16(a + 6);
  let fip: number, fdp: number;
  if (rexW) {
    fip = (m.read64(a + 8) >>> 0) + (m.hi >>> 0) * TWO32;
    fdp = (m.read64(a + 16) >>> 0) + (m.hi >>> 0) * TWO32;
  } else {
    fip = m.read32(a + 8) >>> 0;
    fdp = m.read32(a + 16) >>> 0;
  }
  x.fcw = (fcw & 0x1f3f) | 0x40;
  x.statusWord = fsw;
  x.fop = fop & 0x7ff;
  x.fip = fip;
  x.fdp = fdp;
  const v = x.regsView;
  for (let k = 0; k < 8; k++) {
    const o = ((x.top + k) & 7) * 10;
    v.setInt32(o, img[3 * k], true);
    v.setInt32(o + 4, img[3 * k + 1], true);
    v.setUint16(o + 8, img[3 * k + 2], true);
  }
  retag(x, tag);
  updateES(x);
}
const scratch = new Int32Array(24);

function loadMxcsr(c: Cpu, a: number): void {
  c.mxcsr = c.mem.read32(a + 24) & MXCSR_MASK;
}

function loadXmm(c: Cpu, a: number): void {
  const tmp = xmmScratch;
  for (let k = 0; k < 64; k += 2) {
    tmp[k] = c.mem.read64(a + 160 + 4 * k);
    tmp[k + 1] = c.mem.hi;
  }
  c.xmm.set(tmp);
}
const xmmScratch = new Int32Array(64);

/** The x87 component's initial configuration (xrstor with XSTATE_BV[0] = 0). */
function initX87(c: Cpu): void {
  fninitState(c.x87);
  c.x87.regs.fill(0);
}

/**
 * Whether the x87 component is out of its initial configuration (XINUSE[0]).
 * Like the host (AMD) this ignores FIP/FDP/FOP, which the SDM allows: XINUSE
 * may only err towards "in use", and the pointers are not worth tracking.
 */
function x87InUse(c: Cpu): boolean {
  const x = c.x87;
  if (x.fcw !== 0x037f || x.statusWord !== 0 || x.ftw !== 0xffff) return true;
  for (let k = 0; k < 80; k++) if (x.regs[k] !== 0) return true;
  return false;
}
/** Whether the SSE component is in use (XINUSE[1]): any XMM register nonzero. */
function sseInUse(c: Cpu): boolean {
  for (let k = 0; k < 64; k++) if (c.xmm[k] !== 0) return true;
  return false;
}

// ------------------------------------------------------------------ public helpers (signal frames etc.)

/** fxsave / fxsave64 image to guest memory at a. */
export function fxsaveTo(c: Cpu, a: number, rexW: boolean): void {
  saveXmm(c, a);
  saveMxcsr(c, a);
  saveX87(c, a, rexW);
}

/** fxrstor / fxrstor64 from guest memory at a. */
export function fxrstorFrom(c: Cpu, a: number, rexW: boolean): void {
  loadXmm(c, a);
  loadMxcsr(c, a);
  loadX87(c, a, rexW);
}

/** Requested-feature bitmap of an xsave-family instruction: EDX:EAX & XCR0. */
function rfbm(c: Cpu): number {
  return c.r[0] & XCR0;
}

/** xsave / xsaveopt with the requested-feature bitmap rfbm. */
export function xsaveTo(c: Cpu, a: number, req: number, rexW = true): void {
  const inUse = (x87InUse(c) ? 1 : 0) | (sseInUse(c) ? 2 : 0);
  const old = c.mem.read8(a + 512);
  if (req & 2) saveXmm(c, a);
  if (req & 6) saveMxcsr(c, a);
  if (req & 1) saveX87(c, a, rexW);
  c.mem.write8(a + 512, (old & ~req) | (inUse & req));
}

/** xsavec: compacted form (identical layout for components 0 and 1). */
export function xsavecTo(c: Cpu, a: number, req: number, rexW = true): void {
  const inUse = ((x87InUse(c) ? 1 : 0) | (sseInUse(c) ? 2 : 0)) & req;
  if (inUse & 2) saveXmm(c, a);
  if (req & 2) saveMxcsr(c, a);
  if (inUse & 1) saveX87(c, a, rexW);
  c.mem.write64(a + 512, inUse, 0);
  c.mem.write64(a + 520, req, 0x80000000 | 0);
}

/** xrstor (standard or compacted form). */
export function xrstorFrom(c: Cpu, a: number, req: number, rexW = true): void {
  const bv = c.mem.read8(a + 512);
  c.mem.read64(a + 520);
  const compacted = c.mem.hi < 0; // XCOMP_BV bit 63
  if (req & 2) {
    if (bv & 2) loadXmm(c, a);
    else c.xmm.fill(0);
  }
  if (compacted) {
    if (req & 2) {
      if (bv & 2) loadMxcsr(c, a);
      else c.mxcsr = 0x1f80;
    }
  } else if (req & 6) loadMxcsr(c, a);
  if (req & 1) {
    if (bv & 1) loadX87(c, a, rexW);
    else initX87(c);
  }
}

// ------------------------------------------------------------------ exec functions

export const execFxsave: ExecFn = (c, i) => fxsaveTo(c, c.ea(i), i.rexW);
export const execFxrstor: ExecFn = (c, i) => fxrstorFrom(c, c.ea(i), i.rexW);
export const execXsave: ExecFn = (c, i) => xsaveTo(c, c.ea(i), rfbm(c), i.rexW);
export const execXrstor: ExecFn = (c, i) => xrstorFrom(c, c.ea(i), rfbm(c), i.rexW);
/** 0F C7 /4 (memory form): for the main decoder, if it advertises XSAVEC. */
export const execXsavec: ExecFn = (c, i) => xsavecTo(c, c.ea(i), rfbm(c), i.rexW);

/**
 * The FPU/SSE state of a new process (Linux's init_fpstate): FNINIT's x87
 * state with zeroed registers, MXCSR 0x1f80, xmm0-15 zero. Linux loads it at
 * every signal handler entry (fpu__clear_user_states) after saving the
 * interrupted state in the frame.
 */
export function fpuInitState(c: Cpu): void {
  c.x87.reset();
  c.mxcsr = 0x1f80;
  c.xmm.fill(0);
}
