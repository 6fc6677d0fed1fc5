/**
 * What translated blocks call outside their inlined fast paths: the memory
 * slow paths (TLB miss, page crossing, watch/code pages, faults) and the
 * wide multiply helpers. Addresses arrive as two int32 halves and go to the
 * AddressSpace as the same double the interpreter would have computed.
 */
import type { Cpu } from '../cpu.js';
import type { ExecFn, Instr } from '../instr.js';
import { PARITY } from '../cpu.js';
import { Res } from './flag-exprs.js';
import { mul64s, mulhs32, mulhu32, out, popcnt32 } from '../arith.js';

const TWO32 = 4294967296;

/**
 * A fault (or divide error) raised by a slow path or a fallback inside
 * translated code. The helpers catch it here instead of letting it unwind
 * through the generated function: a try/catch there would give every call
 * site an exception edge merging all the guest-register locals, which makes
 * V8's optimizing compile of a region take seconds. The generated code
 * checks `FS.fault !== null` after each such call (off the fast path).
 */
export const FS: { fault: unknown } = { fault: null };

/** Takes the pending fault (the generated code rethrows it for the engine). */
export function takeFault(): unknown {
  const e = FS.fault;
  FS.fault = null;
  return e;
}

export function rd8(c: Cpu, lo: number, hi: number): number {
  try {
    return c.mem.read8(hi * TWO32 + (lo >>> 0));
  } catch (e) {
    FS.fault = e;
    return 0;
  }
}
export function rd16(c: Cpu, lo: number, hi: number): number {
  try {
    return c.mem.read16(hi * TWO32 + (lo >>> 0));
  } catch (e) {
    FS.fault = e;
    return 0;
  }
}
export function rd32(c: Cpu, lo: number, hi: number): number {
  try {
    return c.mem.read32(hi * TWO32 + (lo >>> 0));
  } catch (e) {
    FS.fault = e;
    return 0;
  }
}
/** Low half returned; the high half is left in c.mem.hi. */
export function rd64(c: Cpu, lo: number, hi: number): number {
  try {
    return c.mem.read64(hi * TWO32 + (lo >>> 0));
  } catch (e) {
    FS.fault = e;
    return 0;
  }
}
export function wr8(c: Cpu, lo: number, hi: number, v: number): void {
  try {
    c.mem.write8(hi * TWO32 + (lo >>> 0), v);
  } catch (e) {
    FS.fault = e;
  }
}
export function wr16(c: Cpu, lo: number, hi: number, v: number): void {
  try {
    c.mem.write16(hi * TWO32 + (lo >>> 0), v);
  } catch (e) {
    FS.fault = e;
  }
}
export function wr32(c: Cpu, lo: number, hi: number, v: number): void {
  try {
    c.mem.write32(hi * TWO32 + (lo >>> 0), v);
  } catch (e) {
    FS.fault = e;
  }
}
export function wr64(c: Cpu, lo: number, hi: number, vl: number, vh: number): void {
  try {
    c.mem.write64(hi * TWO32 + (lo >>> 0), vl, vh);
  } catch (e) {
    FS.fault = e;
  }
}

/** Runs an instruction through its interpreter exec function; a fault it raises goes to FS. */
export function callFallback(c: Cpu, f: ExecFn, i: Instr): void {
  try {
    f(c, i);
  } catch (e) {
    FS.fault = e;
  }
}

/**
 * Stores the flags described at run time by a producer id (see producerId:
 * op * 16 + size; 0 = already in the Cpu) into the Cpu's lazy-flag fields.
 * One shared function rather than a switch in every region: the exit paths
 * of translated code are cold, and V8 deoptimizes code reaching sites it has
 * never seen run.
 */
export function storeFlags(c: Cpu, id: number, fa: number, fah: number, fb: number, fbh: number, fr: number, frh: number, fci: number, fcf: number, fof: number): void {
  if (id === 0) return;
  const op = id >> 4, size = id & 15;
  if (op === Res) {
    const zf = size === 8 ? (fr | frh) === 0 : fr === 0;
    const sf = size === 8 ? frh >>> 31 : size === 4 ? fr >>> 31 : (fr >>> (size * 8 - 1)) & 1;
    c.fop = 0;
    c.fexp = fcf | (PARITY[fr & 255] << 2) | (zf ? 0x40 : 0) | (sf << 7) | (fof << 11);
    return;
  }
  c.fop = op;
  c.fsz = size;
  c.fres = fr;
  c.fresh = frh;
  c.fa = fa;
  c.fah = fah;
  c.fb = fb;
  c.fbh = fbh;
  c.fcin = fci;
}

/** Everything the generated factories destructure. */
export const RUNTIME = { rd8, rd16, rd32, rd64, wr8, wr16, wr32, wr64, PAR: PARITY, mulhs32, mulhu32, mul64s, OUT: out, POP: popcnt32, storeFlags, FS, takeFault, callFallback };
