/**
 * Control instructions (they do not update FIP/FDP/FOP): fldcw, fnstcw,
 * fnstsw, fnclex, fninit, fnstenv/fldenv, fnsave/frstor, and the 8087/287
 * leftovers feni/fdisi/fsetpm (no-ops on a 387 and later).
 *
 * Environment layouts (64-bit mode uses the 32-bit protected-mode format;
 * an operand-size prefix selects the 16-bit one):
 *   32-bit (28 bytes): FCW, FSW, FTW as dwords with 0xFFFF in the upper half,
 *     FIP, FCS | FOP << 16, FDP, FDS | 0xFFFF << 16.
 *   16-bit (14 bytes): FCW, FSW, FTW, FIP[15:0], FCS, FDP[15:0], FDS.
 * FCS and FDS are stored as 0. fnsave/frstor append ST(0)..ST(7), 10 bytes each.
 */
import type { Cpu } from '../cpu.js';
import type { ExecFn } from '../instr.js';
import type { X87State } from '../x87-state.js';
import { tagOf } from './softfloat.js';
import { BUSY, ES, isEmpty, regHi, regLo, regSe, retag } from './stack.js';

/** FCW as the hardware keeps it: reserved bit 6 reads as 1, bits 13-15 as 0. */
export function normalizeFcw(v: number): number {
  return (v & 0x1f3f) | 0x40;
}

/** Sets or clears ES and B from the exception flags and masks. */
export function updateES(x: X87State): void {
  if (x.fsw & ~x.fcw & 0x3f) x.fsw |= ES | BUSY;
  else x.fsw &= ~(ES | BUSY);
}

/** The full tag word (2 bits per physical register) as fnstenv/fnsave store it. */
export function fullTagWord(x: X87State): number {
  let t = 0;
  for (let p = 0; p < 8; p++) t |= (isEmpty(x, p) ? 3 : tagOf(regSe(x, p), regHi(x, p), regLo(x, p))) << (2 * p);
  return t;
}

export function fninitState(x: X87State): void {
  x.fcw = 0x037f;
  x.fsw = 0;
  x.top = 0;
  x.ftw = 0xffff;
  x.fip = 0;
  x.fdp = 0;
  x.fop = 0;
}

export const fldcw: ExecFn = (c, i) => {
  const x = c.x87;
  x.fcw = normalizeFcw(c.mem.read16(c.ea(i)));
  updateES(x);
};

export const fnstcw: ExecFn = (c, i) => {
  c.mem.write16(c.ea(i), c.x87.fcw);
};

export const fnstswMem: ExecFn = (c, i) => {
  c.mem.write16(c.ea(i), c.x87.statusWord);
};

export const fnstswAx: ExecFn = (c) => {
  c.setReg(0, 2, c.x87.statusWord, 0);
};

export const fnclex: ExecFn = (c) => {
  c.x87.fsw &= 0x7f00;
};

export const fninit: ExecFn = (c) => fninitState(c.x87);

export const fnopControl: ExecFn = () => {};

function low32(v: number): number {
  return v % 4294967296 | 0;
}

function writeEnv(c: Cpu, a: number, is16: boolean): void {
  const x = c.x87, m = c.mem;
  const ftw = fullTagWord(x);
  if (is16) {
    m.write16(a, x.fcw);
    m.write16(a + 2, x.statusWord);
    m.write16(a + 4, ftw);
    m.write16(a + 6, x.fip & 0xffff);
    m.write16(a + 8, 0);
    m.write16(a + 10, x.fdp & 0xffff);
    m.write16(a + 12, 0);
    return;
  }
  m.write32(a, 0xffff0000 | x.fcw);
  m.write32(a + 4, 0xffff0000 | x.statusWord);
  m.write32(a + 8, 0xffff0000 | ftw);
  m.write32(a + 12, low32(x.fip));
  m.write32(a + 16, (x.fop & 0x7ff) << 16);
  m.write32(a + 20, low32(x.fdp));
  m.write32(a + 24, 0xffff0000 | 0);
}

/** Reads an environment image; applies it only after every read succeeded. */
function readEnv(c: Cpu, a: number, is16: boolean): void {
  const x = c.x87, m = c.mem;
  let fcw: number, fsw: number, ftw: number, fip: number, fop: number, fdp: number;
  if (is16) {
    fcw = m.read16(a);
    fsw = m.read16(a + 2);
    ftw = m.read16(a + 4);
    fip = m.read16(a + 6);
    fop = 0;
    fdp = m.read16(a + 10);
  } else {
    fcw = m.read16(a);
    fsw = m.read16(a + 4);
    ftw = m.read16(a + 8);
    fip = m.read32(a + 12) >>> 0;
    fop = (m.read32(a + 16) >>> 16) & 0x7ff;
    fdp = m.read32(a + 20) >>> 0;
  }
  x.fcw = normalizeFcw(fcw);
  x.statusWord = fsw;
  x.fip = fip;
  x.fop = fop;
  x.fdp = fdp;
  let nonEmpty = 0;
  for (let p = 0; p < 8; p++) if (((ftw >> (2 * p)) & 3) !== 3) nonEmpty |= 1 << p;
  retag(x, nonEmpty);
  updateES(x);
}

export function fnstenv(is16: boolean): ExecFn {
  return (c, i) => {
    writeEnv(c, c.ea(i), is16);
    c.x87.fcw |= 0x3f; // fnstenv masks all exceptions after storing
    updateES(c.x87);
  };
}

export function fldenv(is16: boolean): ExecFn {
  return (c, i) => readEnv(c, c.ea(i), is16);
}

export function fnsave(is16: boolean): ExecFn {
  return (c, i) => {
    const x = c.x87, a = c.ea(i);
    const base = a + (is16 ? 14 : 28);
    // Registers first (the part most likely to fault at a page end), then the environment.
    for (let k = 0; k < 8; k++) {
      const p = (x.top + k) & 7, o = base + 10 * k;
      c.mem.write64(o, regLo(x, p) | 0, regHi(x, p) | 0);
      c.mem.write16(o + 8, regSe(x, p));
    }
    writeEnv(c, a, is16);
    fninitState(x);
  };
}

export function frstor(is16: boolean): ExecFn {
  return (c, i) => {
    const x = c.x87, a = c.ea(i);
    const base = a + (is16 ? 14 : 28);
    const img = frstorScratch;
    for (let k = 0; k < 80; k++) img[k] = c.mem.read8(base + k);
    readEnv(c, a, is16);
    // Image slot k is ST(k) with the TOP just loaded.
    for (let k = 0; k < 8; k++) x.regs.set(img.subarray(10 * k, 10 * k + 10), ((x.top + k) & 7) * 10);
    retag(x, x.abridgedTag);
  };
}
const frstorScratch = new Uint8Array(80);
