import { Cpu, RAX, RCX, RDI, RSI } from '../cpu.js';
import { REP_F2, REP_F3, REP_NONE, type Instr } from '../instr.js';
import { Alu, alu } from './alu.js';

const PAGE = 4096;

/** Count register for rep (rcx, or ecx with 0x67). Exact below 2^53. */
function count(c: Cpu, i: Instr): number {
  return i.adsize === 4 ? c.r[2 * RCX] >>> 0 : c.getU(RCX);
}
function setCount(c: Cpu, i: Instr, n: number): void {
  if (i.adsize === 4) c.set32(RCX, n);
  else c.setS(RCX, n);
}
function ptr(c: Cpu, i: Instr, reg: number): number {
  return i.adsize === 4 ? c.r[2 * reg] >>> 0 : c.getS(reg);
}
function setPtr(c: Cpu, i: Instr, reg: number, v: number): void {
  if (i.adsize === 4) c.set32(reg, v);
  else c.setS(reg, v);
}

/** movs (A4/A5). Forward non-overlapping rep movs is a bulk copy, page chunk by page chunk. */
export function movs(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const step = c.df ? -s : s;
  let n = i.rep ? count(c, i) : 1;
  let src = ptr(c, i, RSI), dst = ptr(c, i, RDI);
  if (i.rep && step > 0 && (dst >= src + n * s || dst + n * s <= src || dst <= src)) {
    // Bulk path (a backward-overlapping forward copy is still correct byte-wise, dst <= src).
    while (n > 0) {
      // Many pages in one copy where both ranges are consecutive frames; page by page otherwise.
      const run = i.adsize === 8 ? c.mem.copyRun(dst, src, n * s, s) : 0;
      if (run > 0) {
        src += run; dst += run; n -= run / s;
        setPtr(c, i, RSI, src); setPtr(c, i, RDI, dst); setCount(c, i, n);
        continue;
      }
      const bytes = Math.min(n * s, PAGE - (src % PAGE), PAGE - (dst % PAGE));
      const elems = Math.max(1, Math.floor(bytes / s));
      if (elems * s <= bytes && bytes >= s) {
        c.mem.copy(dst, src, elems * s);
      } else {
        // An element straddles a page boundary: copy it through the slow path.
        const v = c.readMem(src, s);
        c.writeMem(dst, s, v, c.hi);
      }
      src += elems * s; dst += elems * s; n -= elems;
      setPtr(c, i, RSI, src); setPtr(c, i, RDI, dst); setCount(c, i, n);
    }
    return;
  }
  while (n > 0) {
    const v = c.readMem(src, s);
    c.writeMem(dst, s, v, c.hi);
    src += step; dst += step; n--;
    setPtr(c, i, RSI, src); setPtr(c, i, RDI, dst);
    if (i.rep) setCount(c, i, n);
  }
}

/** stos (AA/AB). rep stosb is a fill. */
export function stos(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const step = c.df ? -s : s;
  let n = i.rep ? count(c, i) : 1;
  let dst = ptr(c, i, RDI);
  const v = c.getReg(RAX, s), vh = c.hi;
  const b = v & 0xff;
  const uniform = s === 1 || (s === 2 && (v & 0xffff) === b * 0x101) || (s >= 4 && v === b * 0x01010101 && (s === 4 || vh === v));
  if (i.rep && step > 0 && uniform) {
    while (n > 0) {
      const bytes = Math.min(n * s, PAGE - (dst % PAGE));
      const elems = Math.floor(bytes / s);
      if (elems === 0) {
        c.writeMem(dst, s, v, vh);
        dst += s; n--;
      } else {
        c.mem.fill(dst, elems * s, b);
        dst += elems * s; n -= elems;
      }
      setPtr(c, i, RDI, dst); setCount(c, i, n);
    }
    return;
  }
  while (n > 0) {
    c.writeMem(dst, s, v, vh);
    dst += step; n--;
    setPtr(c, i, RDI, dst);
    if (i.rep) setCount(c, i, n);
  }
}

/** lods (AC/AD) */
export function lods(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const step = c.df ? -s : s;
  let n = i.rep ? count(c, i) : 1;
  let src = ptr(c, i, RSI);
  while (n > 0) {
    const v = c.readMem(src, s);
    c.setReg(RAX, s, v, c.hi);
    src += step; n--;
    setPtr(c, i, RSI, src);
    if (i.rep) setCount(c, i, n);
  }
}

/** cmps (A6/A7): compares [rsi] with [rdi]; repe/repne stop on ZF. */
export function cmps(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const step = c.df ? -s : s;
  let n = i.rep ? count(c, i) : 1;
  let src = ptr(c, i, RSI), dst = ptr(c, i, RDI);
  while (n > 0) {
    const a = c.readMem(src, s), ah = c.hi;
    const b = c.readMem(dst, s), bh = c.hi;
    alu(c, Alu.Cmp, s, a, ah, b, bh);
    src += step; dst += step; n--;
    setPtr(c, i, RSI, src); setPtr(c, i, RDI, dst);
    if (!i.rep) return;
    setCount(c, i, n);
    const zf = c.getZF();
    if ((i.rep === REP_F3 && zf === 0) || (i.rep === REP_F2 && zf === 1)) return;
  }
}

/** scas (AE/AF): compares rax with [rdi]. */
export function scas(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const step = c.df ? -s : s;
  let n = i.rep ? count(c, i) : 1;
  let dst = ptr(c, i, RDI);
  const a = c.getReg(RAX, s), ah = c.hi;
  while (n > 0) {
    const b = c.readMem(dst, s), bh = c.hi;
    alu(c, Alu.Cmp, s, a, ah, b, bh);
    dst += step; n--;
    setPtr(c, i, RDI, dst);
    if (!i.rep) return;
    setCount(c, i, n);
    const zf = c.getZF();
    if ((i.rep === REP_F3 && zf === 0) || (i.rep === REP_F2 && zf === 1)) return;
  }
}

/** A string instruction (movs cmps stos lods scas) with a rep prefix. */
export function isRepString(i: Instr): boolean {
  return i.rep !== REP_NONE && i.map === 0 && i.op >= 0xa4 && i.op <= 0xaf && i.op !== 0xa8 && i.op !== 0xa9;
}

/**
 * One iteration of a rep string instruction, as the CPU runs it when it traps
 * between iterations (a single step, or a data breakpoint the iteration hit:
 * Intel SDM vol. 3, "Debug exceptions" — repeated string instructions are
 * interruptible after each iteration): rcx and the pointers advance by one
 * element, and rip (already i.next) goes back to the instruction until the
 * count runs out or repe/repne ends it. gdb's stepi then walks the iterations
 * as it does natively. Returns true when the instruction is not done yet.
 */
export function repIteration(c: Cpu, i: Instr): boolean {
  const n = count(c, i);
  if (n === 0) return false;
  const lo = c.r[2 * RCX], hi = c.r[2 * RCX + 1];
  setCount(c, i, 1);
  try {
    i.exec(c, i);
  } catch (e) {
    // The faulting iteration did not happen: rcx is as it was.
    c.r[2 * RCX] = lo;
    c.r[2 * RCX + 1] = hi;
    throw e;
  }
  setCount(c, i, n - 1);
  const compares = i.op === 0xa6 || i.op === 0xa7 || i.op === 0xae || i.op === 0xaf;
  const ended = n === 1 || (compares && c.getZF() === (i.rep === REP_F3 ? 0 : 1));
  if (!ended) c.rip = i.addr;
  return !ended;
}
