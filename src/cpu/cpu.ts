import type { AddressSpace } from '../mem/address-space.js';
import type { PhysicalMemory } from '../mem/physical.js';
import { SEG_FS, type Instr } from './instr.js';
import { X87State } from './x87-state.js';

/** General-purpose register numbers (REX-extended). */
export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
export const R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;

/** Why cpu.run() returned. */
export const enum Stop {
  None = 0,
  /** A `syscall` instruction: rip already points after it. */
  Syscall = 1,
  /** A memory fault: see cpu.fault. rip points at the faulting instruction. */
  Fault = 2,
  /** Reached a software or hardware breakpoint address (before executing it). */
  Breakpoint = 3,
  /** Completed the single step that was asked for. */
  Step = 4,
  /** The instruction budget ran out. */
  Budget = 5,
  /** Undefined / unimplemented instruction: rip points at it. SIGILL. */
  Illegal = 6,
  /** int3 in guest code: rip points after it. SIGTRAP. */
  Trap = 7,
  /** Divide error: rip points at the div. SIGFPE. */
  DivideError = 8,
  /** A watchpoint triggered: see cpu.watchHit. rip points after the accessing instruction. */
  Watchpoint = 9,
  /** hlt or a privileged instruction in user mode: SIGSEGV like Linux (general protection). */
  Privileged = 10,
  /** The run loop was asked to stop (Ctrl-C, scheduler). */
  Interrupted = 11,
}

/** Lazy-flags operation kinds: how to derive the arithmetic flags from the saved operands. */
export const enum FlagOp {
  /** cpu.fexp holds the flag bits. */
  Explicit = 0,
  Add = 1,
  Adc = 2,
  Sub = 3,
  Sbb = 4,
  Logic = 5,
  Inc = 6,
  Dec = 7,
}

export const CF = 1 << 0, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, TF = 1 << 8, IF = 1 << 9, DF = 1 << 10, OF = 1 << 11;
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;
/** Flags a user program may change with popf (TF, DF, OF, AC, ID, the arithmetic ones). */
export const USER_FLAGS = ARITH_FLAGS | TF | DF | (1 << 18) | (1 << 21);

const PARITY = new Uint8Array(256);
for (let v = 0; v < 256; v++) {
  let b = v;
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  PARITY[v] = (b & 1) === 0 ? 1 : 0;
}

const TWO32 = 4294967296;

/** Gives a dead Cpu's register slot back to its pool. */
const REGISTER_SLOTS = new FinalizationRegistry<{ phys: PhysicalMemory; off: number }>(({ phys, off }) => phys.releaseRegisterSlot(off));

/**
 * Architectural state of one hardware thread plus the lazy flags.
 *
 * A 64-bit register n is two int32 halves: r[2n] (low) and r[2n+1] (high).
 * No BigInt anywhere on this path. 8-bit register encodings in decoded
 * instructions: 0..15 are the low bytes (al, cl, …, r15b; spl..dil with REX),
 * 16..19 are ah, ch, dh, bh.
 */
export class Cpu {
  readonly r: Int32Array;
  /** Pool offset of r when it lives in a WebAssembly pool (translated WebAssembly code reads and writes it there), else -1. */
  readonly rOffset: number;
  rip = 0;

  // Lazy flags: the last flag-setting operation, its size and operands.
  fop: FlagOp = FlagOp.Explicit;
  fsz = 4;
  fres = 0;
  fresh = 0;
  fa = 0;
  fah = 0;
  fb = 0;
  fbh = 0;
  /** Carry in (adc/sbb) or the preserved CF (inc/dec). */
  fcin = 0;
  /** Arithmetic flag bits when fop is Explicit. */
  fexp = 0;
  /** Non-arithmetic EFLAGS bits (IF, DF, TF, AC, ID, the reserved bit 1). */
  fother = 0x202;

  fsBase = 0;
  gsBase = 0;

  /** xmm0..15, 16 bytes each, with typed views over the same bytes (in the pool after r when r is: at rOffset + 128). */
  readonly xmm: Int32Array;
  readonly xmmU8: Uint8Array;
  readonly xmmU16: Uint16Array;
  readonly xmmF32: Float32Array;
  readonly xmmF64: Float64Array;
  readonly xmmView: DataView;
  mxcsr = 0x1f80;
  readonly x87 = new X87State();

  /** The syscall number at entry as Linux keeps it (gdb's orig_rax); -1 outside syscalls. */
  origRax = -1;

  /** High 32 bits of the last 64-bit value returned by a helper (read64, pop64, alu64…). */
  hi = 0;
  /** Instructions retired. */
  icount = 0;
  /** Index within a compiled block of the instruction that threw. */
  faultIndex = 0;

  /** Why the last run() stopped, and details. */
  stop: Stop = Stop.None;
  /** For Stop.Fault: the GuestFault; for Stop.Watchpoint: the data address. */
  fault: unknown = null;
  watchHit = 0;
  watchKind: 'watch' | 'rwatch' | 'awatch' = 'watch';

  constructor(public mem: AddressSpace) {
    const phys = mem.phys;
    const off = phys.memory !== null ? phys.allocRegisterSlot() : -1;
    this.rOffset = off;
    const buffer = off >= 0 ? phys.buffer : new ArrayBuffer(384);
    const base = off >= 0 ? off : 0;
    this.r = new Int32Array(buffer, base, 32).fill(0);
    this.xmm = new Int32Array(buffer, base + 128, 64).fill(0);
    this.xmmU8 = new Uint8Array(buffer, base + 128, 256);
    this.xmmU16 = new Uint16Array(buffer, base + 128, 128);
    this.xmmF32 = new Float32Array(buffer, base + 128, 64);
    this.xmmF64 = new Float64Array(buffer, base + 128, 32);
    this.xmmView = new DataView(buffer, base + 128, 256);
    if (off >= 0) REGISTER_SLOTS.register(this, { phys, off });
  }

  // ------------------------------------------------------------------ GPRs

  /** Register n as a signed 64-bit value in a double (exact below 2^53 in magnitude: every user address). */
  getS(n: number): number {
    return this.r[2 * n + 1] * TWO32 + (this.r[2 * n] >>> 0);
  }
  /** Register n as an unsigned 64-bit value in a double (inexact above 2^53). */
  getU(n: number): number {
    return (this.r[2 * n + 1] >>> 0) * TWO32 + (this.r[2 * n] >>> 0);
  }
  /** Sets register n from a non-negative or negative integer double (|v| < 2^53). */
  setS(n: number, v: number): void {
    const hi = Math.floor(v / TWO32);
    this.r[2 * n] = v - hi * TWO32;
    this.r[2 * n + 1] = hi;
  }
  getBig(n: number): bigint {
    return (BigInt(this.r[2 * n + 1] >>> 0) << 32n) | BigInt(this.r[2 * n] >>> 0);
  }
  setBig(n: number, v: bigint): void {
    this.r[2 * n] = Number(v & 0xffffffffn);
    this.r[2 * n + 1] = Number((v >> 32n) & 0xffffffffn);
  }
  set64(n: number, lo: number, hi: number): void {
    this.r[2 * n] = lo;
    this.r[2 * n + 1] = hi;
  }
  /** 32-bit writes zero the upper half, as on hardware. */
  set32(n: number, v: number): void {
    this.r[2 * n] = v;
    this.r[2 * n + 1] = 0;
  }
  set16(n: number, v: number): void {
    this.r[2 * n] = (this.r[2 * n] & ~0xffff) | (v & 0xffff);
  }
  get8(n: number): number {
    return n < 16 ? this.r[2 * n] & 0xff : (this.r[2 * (n - 16)] >> 8) & 0xff;
  }
  set8(n: number, v: number): void {
    if (n < 16) this.r[2 * n] = (this.r[2 * n] & ~0xff) | (v & 0xff);
    else this.r[2 * (n - 16)] = (this.r[2 * (n - 16)] & ~0xff00) | ((v & 0xff) << 8);
  }
  /** Reads a GPR at operand size; 8 bytes → low half returned, high half in this.hi. */
  getReg(n: number, size: number): number {
    switch (size) {
      case 1: return this.get8(n);
      case 2: return this.r[2 * n] & 0xffff;
      case 4: return this.r[2 * n];
      default: this.hi = this.r[2 * n + 1]; return this.r[2 * n];
    }
  }
  /** Writes a GPR at operand size with x86 merge/zero-extension rules. */
  setReg(n: number, size: number, lo: number, hi: number): void {
    switch (size) {
      case 1: this.set8(n, lo); break;
      case 2: this.set16(n, lo); break;
      case 4: this.r[2 * n] = lo; this.r[2 * n + 1] = 0; break;
      default: this.r[2 * n] = lo; this.r[2 * n + 1] = hi;
    }
  }

  // ------------------------------------------------------------------ memory operands

  /** Effective address of a memory operand (segment base included). */
  ea(i: Instr): number {
    let a = i.disp;
    const b = i.base;
    if (b >= 0) a += this.r[2 * b + 1] * TWO32 + (this.r[2 * b] >>> 0);
    const x = i.index;
    if (x >= 0) a += (this.r[2 * x + 1] * TWO32 + (this.r[2 * x] >>> 0)) * (1 << i.scale);
    if (i.adsize === 4) a = a >>> 0; // 0x67: wrap to 32 bits
    if (i.seg !== 0) a += i.seg === SEG_FS ? this.fsBase : this.gsBase;
    return a;
  }

  /** Reads the r/m operand at the instruction's operand size (8 bytes → high half in this.hi). */
  readRM(i: Instr, size: number): number {
    if (!i.isMem) return this.getReg(i.rm, size);
    const a = this.ea(i);
    switch (size) {
      case 1: return this.mem.read8(a);
      case 2: return this.mem.read16(a);
      case 4: return this.mem.read32(a);
      default: {
        const lo = this.mem.read64(a);
        this.hi = this.mem.hi;
        return lo;
      }
    }
  }
  /** Writes the r/m operand. */
  writeRM(i: Instr, size: number, lo: number, hi: number): void {
    if (!i.isMem) return this.setReg(i.rm, size, lo, hi);
    this.writeMem(this.ea(i), size, lo, hi);
  }
  readMem(a: number, size: number): number {
    switch (size) {
      case 1: return this.mem.read8(a);
      case 2: return this.mem.read16(a);
      case 4: return this.mem.read32(a);
      default: {
        const lo = this.mem.read64(a);
        this.hi = this.mem.hi;
        return lo;
      }
    }
  }
  writeMem(a: number, size: number, lo: number, hi: number): void {
    switch (size) {
      case 1: this.mem.write8(a, lo); break;
      case 2: this.mem.write16(a, lo); break;
      case 4: this.mem.write32(a, lo); break;
      default: this.mem.write64(a, lo, hi);
    }
  }

  // ------------------------------------------------------------------ stack

  get rsp(): number {
    return this.r[9] * TWO32 + (this.r[8] >>> 0);
  }
  set rsp(v: number) {
    this.setS(RSP, v);
  }
  push64(lo: number, hi: number): void {
    const r = this.r;
    const sl = r[8], sh = r[9];
    const nl = (sl - 8) | 0;
    const nh = (sl >>> 0) < 8 ? (sh - 1) | 0 : sh;
    this.mem.write64(nh * TWO32 + (nl >>> 0), lo, hi);
    r[8] = nl;
    r[9] = nh;
  }
  /** Pops 8 bytes: low half returned, high half in this.hi. */
  pop64(): number {
    const r = this.r;
    const sl = r[8], sh = r[9];
    const lo = this.mem.read64(sh * TWO32 + (sl >>> 0));
    this.hi = this.mem.hi;
    const nl = (sl + 8) | 0;
    r[8] = nl;
    r[9] = (nl >>> 0) < 8 ? (sh + 1) | 0 : sh;
    return lo;
  }

  // ------------------------------------------------------------------ flags

  /** Records a flag-setting ALU result for lazy evaluation. Values are already masked to size (int32 for 4/8). */
  setFlags(op: FlagOp, size: number, res: number, resh: number, a: number, ah: number, b: number, bh: number): void {
    this.fop = op;
    this.fsz = size;
    this.fres = res;
    this.fresh = resh;
    this.fa = a;
    this.fah = ah;
    this.fb = b;
    this.fbh = bh;
  }

  getCF(): number {
    const a = this.fa, b = this.fb, r = this.fres;
    switch (this.fop) {
      case FlagOp.Add:
        if (this.fsz === 8) return ult64(this.fresh, r, this.fah, a);
        return (r >>> 0) < (a >>> 0) ? 1 : 0;
      case FlagOp.Adc:
        if (this.fsz === 8) return this.fcin ? (ult64(this.fresh, r, this.fah, a) | (this.fresh === this.fah && r === a ? 1 : 0)) : ult64(this.fresh, r, this.fah, a);
        return this.fcin ? ((r >>> 0) <= (a >>> 0) ? 1 : 0) : ((r >>> 0) < (a >>> 0) ? 1 : 0);
      case FlagOp.Sub:
        if (this.fsz === 8) return ult64(this.fah, a, this.fbh, b);
        return (a >>> 0) < (b >>> 0) ? 1 : 0;
      case FlagOp.Sbb:
        if (this.fsz === 8) return ult64(this.fah, a, this.fbh, b) | (this.fcin && this.fah === this.fbh && a === b ? 1 : 0);
        return this.fcin ? ((a >>> 0) <= (b >>> 0) ? 1 : 0) : ((a >>> 0) < (b >>> 0) ? 1 : 0);
      case FlagOp.Logic:
        return 0;
      case FlagOp.Inc:
      case FlagOp.Dec:
        return this.fcin;
      default:
        return this.fexp & CF;
    }
  }
  getZF(): number {
    if (this.fop === FlagOp.Explicit) return (this.fexp >> 6) & 1;
    return this.fres === 0 && (this.fsz !== 8 || this.fresh === 0) ? 1 : 0;
  }
  getSF(): number {
    if (this.fop === FlagOp.Explicit) return (this.fexp >> 7) & 1;
    switch (this.fsz) {
      case 1: return (this.fres >> 7) & 1;
      case 2: return (this.fres >> 15) & 1;
      case 4: return this.fres >>> 31;
      default: return this.fresh >>> 31;
    }
  }
  getOF(): number {
    let v: number;
    switch (this.fop) {
      case FlagOp.Add:
      case FlagOp.Adc:
      case FlagOp.Inc:
        v = this.fsz === 8 ? (this.fah ^ this.fresh) & (this.fbh ^ this.fresh) : (this.fa ^ this.fres) & (this.fb ^ this.fres);
        break;
      case FlagOp.Sub:
      case FlagOp.Sbb:
      case FlagOp.Dec:
        v = this.fsz === 8 ? (this.fah ^ this.fbh) & (this.fah ^ this.fresh) : (this.fa ^ this.fb) & (this.fa ^ this.fres);
        break;
      case FlagOp.Logic:
        return 0;
      default:
        return (this.fexp >> 11) & 1;
    }
    switch (this.fsz) {
      case 1: return (v >> 7) & 1;
      case 2: return (v >> 15) & 1;
      default: return v >>> 31;
    }
  }
  getPF(): number {
    if (this.fop === FlagOp.Explicit) return (this.fexp >> 2) & 1;
    return PARITY[this.fres & 0xff];
  }
  getAF(): number {
    if (this.fop === FlagOp.Explicit) return (this.fexp >> 4) & 1;
    if (this.fop === FlagOp.Logic) return 0;
    return ((this.fa ^ this.fb ^ this.fres) >> 4) & 1;
  }

  /** The full RFLAGS value (low 32 bits). */
  getEflags(): number {
    return (
      (this.fother & ~ARITH_FLAGS) |
      this.getCF() |
      (this.getPF() << 2) |
      (this.getAF() << 4) |
      (this.getZF() << 6) |
      (this.getSF() << 7) |
      (this.getOF() << 11)
    );
  }
  setEflags(v: number): void {
    this.fop = FlagOp.Explicit;
    this.fexp = v & ARITH_FLAGS;
    this.fother = (v & ~ARITH_FLAGS) | 2;
  }
  /** Replaces only the given arithmetic flag bits, keeping the others as they are. */
  setSomeFlags(mask: number, bits: number): void {
    const cur = this.getEflags() & ARITH_FLAGS;
    this.fop = FlagOp.Explicit;
    this.fexp = (cur & ~mask) | (bits & mask);
  }
  get df(): number {
    return (this.fother >> 10) & 1;
  }

  /** Evaluates condition code cc (0..15, as in Jcc/SETcc/CMOVcc). */
  cond(cc: number): boolean {
    // Fast paths for the overwhelmingly common cmp/sub + jcc and test + jcc pairs.
    if (this.fop === FlagOp.Sub && this.fsz !== 8) {
      const a = this.fa, b = this.fb;
      switch (cc) {
        case 2: return (a >>> 0) < (b >>> 0);
        case 3: return (a >>> 0) >= (b >>> 0);
        case 4: return a === b;
        case 5: return a !== b;
        case 6: return (a >>> 0) <= (b >>> 0);
        case 7: return (a >>> 0) > (b >>> 0);
        case 0xc: if (this.fsz === 4) return a < b; break;
        case 0xd: if (this.fsz === 4) return a >= b; break;
        case 0xe: if (this.fsz === 4) return a <= b; break;
        case 0xf: if (this.fsz === 4) return a > b; break;
      }
    }
    let v: boolean;
    switch (cc >> 1) {
      case 0: v = this.getOF() === 1; break;
      case 1: v = this.getCF() === 1; break;
      case 2: v = this.getZF() === 1; break;
      case 3: v = (this.getCF() | this.getZF()) === 1; break;
      case 4: v = this.getSF() === 1; break;
      case 5: v = this.getPF() === 1; break;
      case 6: v = this.getSF() !== this.getOF(); break;
      default: v = this.getZF() === 1 || this.getSF() !== this.getOF(); break;
    }
    return (cc & 1) === 0 ? v : !v;
  }

  /** Copies the whole architectural state (for fork/clone). */
  copyFrom(o: Cpu): void {
    this.r.set(o.r);
    this.rip = o.rip;
    this.setEflags(o.getEflags());
    this.fsBase = o.fsBase;
    this.gsBase = o.gsBase;
    this.xmm.set(o.xmm);
    this.mxcsr = o.mxcsr;
    this.x87.copyFrom(o.x87);
  }
}

/** Unsigned 64-bit a < b, each as (hi, lo) int32 halves. */
export function ult64(ah: number, al: number, bh: number, bl: number): number {
  if (ah !== bh) return (ah >>> 0) < (bh >>> 0) ? 1 : 0;
  return (al >>> 0) < (bl >>> 0) ? 1 : 0;
}

export { PARITY };
