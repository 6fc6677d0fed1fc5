import type { AddressSpace } from '../mem/address-space.js';
import { Decoder } from '../cpu/decoder.js';
import { SEG_FS, SEG_GS, type Instr } from '../cpu/instr.js';
import { illegal } from '../cpu/ops/control.js';
import { bextr, bzhi } from '../cpu/vex/bmi.js';
import { movbe } from '../cpu/ops/move.js';
import type { Registers } from './side.js';

/** EFLAGS bits. */
export const CF = 1, PF = 4, AF = 16, ZF = 64, SF = 128, OF = 2048;
export const ARITH = CF | PF | AF | ZF | SF | OF;
/** x87 status word condition code C1. */
export const C1 = 1 << 9;

/** What the differ needs to know about one instruction, from its bytes and the registers before it. */
export interface InstructionFacts {
  instr: Instr;
  /** The instruction's bytes. */
  bytes: Uint8Array;
  /** Arithmetic flags the instruction leaves undefined (given its operands). */
  undefinedFlags: number;
  /** x87 status bits the instruction leaves undefined. */
  undefinedFsw: number;
  /** Undefined destinations (bsf/bsr of zero, oversized 16-bit shld/shrd). */
  undefined: UndefinedEffects;
  /** Memory to compare after the step: [address, length] pairs (before-state addresses). */
  memory: Array<[number, number]>;
  /** Written memory that cannot be compared (xsave areas differ by design). */
  uncomparable: boolean;
  /**
   * Where such an uncomparable store wrote: the fxsave image (512 bytes) or the xsave area as elfshim lays it out (x87
   * and SSE state plus the header, 576 bytes; native writes its other components only where in use). Earlier writes
   * of the same bytes cannot be compared after it.
   */
  overwritten: Array<[number, number]>;
  kind: 'plain' | 'syscall' | 'cpuid' | 'rdtsc' | 'xgetbv' | 'rep-string' | 'stack-write' | 'string';
}

const GPR = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
/** gdb register name of x86 register encoding n. */
export function gprName(n: number): string {
  return GPR[n];
}

/** A fake address space over a byte buffer: the decoder only fetches. */
function codeSource(addr: number, bytes: Uint8Array): AddressSpace {
  return {
    fetch8(a: number): number {
      const k = a - addr;
      if (k < 0 || k >= bytes.length) throw new RangeError('instruction runs past the bytes read');
      return bytes[k];
    },
  } as unknown as AddressSpace;
}

/** Decodes the instruction at addr from up to 16 bytes; null if it is undecodable (the step will tell). */
export function decodeAt(addr: number, bytes: Uint8Array): Instr | null {
  try {
    return new Decoder(codeSource(addr, bytes)).decode(addr);
  } catch {
    return null;
  }
}

/** A 32-bit half of register `name` (unsigned). */
function half(r: Registers, name: string, high: boolean): number {
  const o = r.layout.get(name)!.offset + (high ? 4 : 0), b = r.bytes;
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/**
 * Effective address of the memory operand from the registers before the instruction: 64-bit arithmetic modulo
 * 2^64 in 32-bit halves (the differ computes it for every memory-writing instruction: BigInt costs too much).
 */
export function effectiveAddress(i: Instr, r: Registers): number {
  let lo = i.disp >>> 0, hi = Math.floor(i.disp / 4294967296) >>> 0;
  const add = (l: number, h: number) => {
    const s = lo + l;
    lo = s >>> 0;
    hi = (hi + h + (s > 0xffffffff ? 1 : 0)) >>> 0;
  };
  if (i.base >= 0) add(half(r, GPR[i.base], false), half(r, GPR[i.base], true));
  if (i.index >= 0) {
    let l = half(r, GPR[i.index], false), h = half(r, GPR[i.index], true);
    const sc = i.scale;
    if (sc) {
      h = ((h << sc) | (l >>> (32 - sc))) >>> 0;
      l = (l << sc) >>> 0;
    }
    add(l, h);
  }
  if (i.adsize === 4) hi = 0;
  if (i.seg === SEG_FS) add(half(r, 'fs_base', false), half(r, 'fs_base', true));
  else if (i.seg === SEG_GS) add(half(r, 'gs_base', false), half(r, 'gs_base', true));
  return hi * 4294967296 + lo;
}

/** Reads GPR n (x86 encoding) as an unsigned 64-bit value. */
export type GprReader = (n: number) => bigint;

/** The shift/rotate count an instruction uses (already masked to 5 or 6 bits). */
function shiftCount(i: Instr, gpr: GprReader, fromCl: boolean): number {
  const raw = fromCl ? Number(gpr(1) & 0xffn) : i.imm;
  return raw & (i.opsize === 8 ? 63 : 31);
}

/** What an instruction leaves undefined, given the registers before it. */
export interface UndefinedEffects {
  /** Arithmetic flags. */
  flags: number;
  /** A destination register whose value is undefined (or -1)... */
  destReg: number;
  /** ...always, or only when the instruction sets ZF (bsf/bsr of zero). */
  destOnlyIfZf: boolean;
  /** The memory destination is undefined (shld/shrd with an oversized count). */
  destMem: boolean;
}

const NONE: UndefinedEffects = { flags: 0, destReg: -1, destOnlyIfZf: false, destMem: false };
const flagsOnly = (flags: number): UndefinedEffects => ({ flags, destReg: -1, destOnlyIfZf: false, destMem: false });

/**
 * Flags (and destinations) each instruction leaves undefined (Intel SDM
 * vol. 2, "Flags Affected"; AMD APM vol. 3 agrees). Everything not listed
 * defines the flags it writes.
 */
export function undefinedEffects(i: Instr, gpr: GprReader): UndefinedEffects {
  const op = i.op, sub = i.reg & 7;
  if (i.vex) {
    if (i.map === 0x0f38) {
      if (op === 0xf2) return flagsOnly(AF | PF); // andn
      if (op === 0xf7 && isBextr(i)) return flagsOnly(AF | SF | PF); // bextr
      if (op === 0xf3) return flagsOnly(AF | PF); // blsr/blsmsk/blsi
      if (op === 0xf5 && isBzhi(i)) return flagsOnly(AF | PF); // bzhi (pdep/pext leave flags alone)
    }
    return NONE;
  }
  if (i.map === 0) {
    // and/or/xor/test: AF undefined.
    if ((op <= 0x3d && (op >> 3 === 1 || op >> 3 === 4 || op >> 3 === 6) && (op & 7) <= 5) || op === 0x84 || op === 0x85 || op === 0xa8 || op === 0xa9) return flagsOnly(AF);
    if (op >= 0x80 && op <= 0x83 && (sub === 1 || sub === 4 || sub === 6)) return flagsOnly(AF);
    if ((op === 0xf6 || op === 0xf7) && sub <= 1) return flagsOnly(AF);
    if (op === 0x69 || op === 0x6b || ((op === 0xf6 || op === 0xf7) && (sub === 4 || sub === 5))) return flagsOnly(SF | ZF | AF | PF);
    if ((op === 0xf6 || op === 0xf7) && sub >= 6) return flagsOnly(ARITH);
    if (op === 0xc0 || op === 0xc1 || (op >= 0xd0 && op <= 0xd3)) {
      const n = op === 0xd0 || op === 0xd1 ? 1 : shiftCount(i, gpr, op === 0xd2 || op === 0xd3);
      if (n === 0) return NONE;
      let f = n !== 1 ? OF : 0;
      if (sub >= 4) {
        f |= AF;
        // "CF is undefined for SHL and SHR where the count is ≥ the operand size" (8/16-bit only: counts are masked to 5 bits).
        if ((sub === 4 || sub === 5 || sub === 6) && n >= i.opsize * 8) f |= CF;
      }
      return flagsOnly(f);
    }
    return NONE;
  }
  if (i.map === 0x0f) {
    if (op === 0xaf) return flagsOnly(SF | ZF | AF | PF);
    if (op === 0xa3 || op === 0xab || op === 0xb3 || op === 0xbb || op === 0xba) return flagsOnly(OF | SF | AF | PF);
    if ((op === 0xbc || op === 0xbd) && i.rep === 1) return flagsOnly(OF | SF | AF | PF); // tzcnt/lzcnt
    if (op === 0xbc || op === 0xbd) return { flags: CF | OF | SF | AF | PF, destReg: i.reg, destOnlyIfZf: true, destMem: false }; // bsf/bsr
    if (op === 0xa4 || op === 0xa5 || op === 0xac || op === 0xad) {
      const n = shiftCount(i, gpr, op === 0xa5 || op === 0xad);
      if (n === 0) return NONE;
      // A count larger than the operand (16-bit forms only) leaves the result and the flags undefined.
      if (n > i.opsize * 8) return { flags: ARITH, destReg: i.isMem ? -1 : i.rm, destOnlyIfZf: false, destMem: i.isMem };
      return flagsOnly(AF | (n !== 1 ? OF : 0));
    }
  }
  return NONE;
}

/** VEX 0F38 F7/F5 without a pp prefix are bextr/bzhi (shlx/sarx/shrx, pdep/pext have one): the decoded exec function tells. */
function isBextr(i: Instr): boolean {
  return i.exec === bextr;
}
function isBzhi(i: Instr): boolean {
  return i.exec === bzhi;
}

/**
 * x87 condition codes the instruction leaves undefined or that vendors set
 * differently. The SDM calls C0-C3 undefined after most x87 instructions,
 * but the hardware leaves them unchanged, as the emulator does, so those are
 * compared. Listed here: fcomi/fucomi(p), after which Intel documents C1 = 0
 * while AMD CPUs keep the previous C1 (seen on this host, Zen 3).
 */
function undefinedFswOf(i: Instr): number {
  if (i.map !== 0 || i.isMem) return 0;
  const sub = i.reg & 7;
  if ((i.op === 0xdb || i.op === 0xdf) && (sub === 5 || sub === 6)) return C1;
  return 0;
}

/** Stores of the x87 and SSE state areas: contents legitimately differ (layout of reserved fields, xsave components). */
function isStateSave(i: Instr): boolean {
  if (i.map === 0x0f && i.op === 0xae && i.isMem) return [0, 4, 6].includes(i.reg & 7);
  if (i.map === 0x0f && i.op === 0xc7 && i.isMem) return [3, 4, 5].includes(i.reg & 7);
  return false;
}

/** Integer loads that never write their memory operand (comparing it would only cost a round trip). */
function isPureLoad(i: Instr): boolean {
  const op = i.op, sub = i.reg & 7;
  if (i.vex) return i.map === 0x0f38 || i.map === 0x0f3a; // BMI/ADX read r/m only
  if (i.map === 0) {
    if (op < 0x40 && (op & 7) >= 2 && (op & 7) <= 3) return true; // op reg, r/m
    if (op === 0x38 || op === 0x39) return true; // cmp r/m, reg
    if (op >= 0x80 && op <= 0x83 && sub === 7) return true; // cmp r/m, imm
    if ([0x63, 0x69, 0x6b, 0x84, 0x85, 0x8a, 0x8b, 0x8d].includes(op)) return true;
    if ((op === 0xf6 || op === 0xf7) && (sub <= 1 || sub >= 4)) return true;
    if (op === 0xff && (sub === 2 || sub === 4 || sub === 6)) return true; // call/jmp/push r/m (the push is compared as a stack write)
    if ((op === 0xd8 || op === 0xda || op === 0xdc || op === 0xde)) return true; // x87 arithmetic with memory
    if ((op === 0xd9 || op === 0xdd) && (sub === 0 || sub === 4 || sub === 5)) return true;
    if ((op === 0xdb || op === 0xdf) && (sub === 0 || sub === 5 || sub === 4)) return true;
    return false;
  }
  if (i.map === 0x0f38) return !(i.exec === movbe && i.sub === 1); // SSSE3/SSE4 ops, crc32, movbe load
  if (i.map === 0x0f3a) return op < 0x14 || op > 0x17; // all but pextrb/w/d/q and extractps
  if (i.map === 0x0f && !isIntegerTwoByte(op) && op !== 0xae) {
    // SSE: only the store forms write memory.
    if (op === 0x7e) return i.rep === 1; // F3 0F 7E movq xmm, m64 loads; 66 0F 7E movd/q m, xmm stores
    return ![0x11, 0x13, 0x17, 0x29, 0x2b, 0x7f, 0xd6, 0xe7].includes(op);
  }
  if (i.map === 0x0f) {
    if ((op >= 0x40 && op <= 0x4f) || op === 0xaf || op === 0xa3 || op === 0xb6 || op === 0xb7 || op === 0xbe || op === 0xbf) return true;
    if (op === 0xbc || op === 0xbd || op === 0xb8) return true;
    if (op === 0xba && sub === 4) return true;
    if ((op >= 0x18 && op <= 0x1f) || op === 0x0d) return true; // prefetch / hint nops
    if (op === 0xae && ((i.reg & 7) === 2 || (i.reg & 7) === 7 || (i.reg & 7) === 1 || (i.reg & 7) === 5)) return true; // ldmxcsr, clflush, fxrstor, xrstor
    return false;
  }
  return false;
}

/** Bytes an instruction's memory operand covers, for the comparison. */
function operandSize(i: Instr): number {
  if (i.map === 0 && i.op >= 0xd8 && i.op <= 0xdf) {
    const sub = i.reg & 7;
    if (i.op === 0xd9 && sub === 6) return 28; // fnstenv
    if (i.op === 0xdd && sub === 6) return 108; // fnsave
    return 10;
  }
  if (i.map === 0x0f && i.op === 0xc7) return i.rexW ? 16 : 8; // cmpxchg8b/16b
  if (i.exec === movbe) return i.opsize;
  if (i.map === 0x0f && (i.op === 0x90 || (i.op >= 0x90 && i.op <= 0x9f))) return 1;
  if (i.map !== 0 && !(i.map === 0x0f && isIntegerTwoByte(i.op))) return 16; // SSE
  return i.opsize;
}

function isIntegerTwoByte(op: number): boolean {
  return (op >= 0x40 && op <= 0x4f) || (op >= 0x90 && op <= 0xbf) || op === 0xc0 || op === 0xc1 || op === 0xc3 || op === 0xc7;
}

/** Opcodes that push onto the stack (the bytes below the old rsp are compared after them). */
function pushesStack(i: Instr): boolean {
  if (i.map !== 0) return false;
  const op = i.op;
  return (op >= 0x50 && op <= 0x57) || op === 0x68 || op === 0x6a || op === 0x9c || op === 0xe8 || op === 0xc8 || (op === 0xff && ((i.reg & 7) === 2 || (i.reg & 7) === 6));
}

/**
 * The facts of an instruction that do not depend on the registers before it (no memory operand it writes, no
 * count register deciding its undefined flags), or null: the differ computes them once per decoded instruction
 * instead of at every execution.
 */
export function constantFacts(i: Instr, bytes: Uint8Array): InstructionFacts | null {
  let readsRegisters = false;
  undefinedEffects(i, () => {
    readsRegisters = true;
    return 0n;
  });
  if (readsRegisters) return null;
  // Registers of zeros: whatever instructionFacts reads of them (an effective address, a bit offset) goes only into
  // the memory ranges, and facts with memory ranges are not constant.
  const probe = { layout: { get: () => ({ offset: 0, size: 8 }) }, bytes: new Uint8Array(8), big: () => 0n, num: () => 0 } as unknown as Registers;
  const f = instructionFacts(i, bytes, probe);
  return f.memory.length || f.overwritten.length ? null : f;
}

/** Everything the differ checks about the instruction at rip, given the registers before it. */
export function instructionFacts(i: Instr, bytes: Uint8Array, before: Registers): InstructionFacts {
  const u = undefinedEffects(i, (n) => before.big(GPR[n]));
  const facts: InstructionFacts = {
    instr: i,
    bytes: bytes.subarray(0, i.len),
    undefinedFlags: u.flags,
    undefinedFsw: undefinedFswOf(i),
    undefined: u,
    memory: [],
    uncomparable: false,
    overwritten: [],
    kind: 'plain',
  };
  if (i.exec === illegal) return facts;
  if (i.map === 0x0f && i.op === 0x05) facts.kind = 'syscall';
  else if (i.map === 0x0f && i.op === 0xa2) facts.kind = 'cpuid';
  else if (i.map === 0x0f && i.op === 0x31) facts.kind = 'rdtsc';
  else if (i.map === 0x0f && i.op === 0x01 && !i.vex) facts.kind = 'xgetbv';
  else if (i.map === 0 && i.op >= 0xa4 && i.op <= 0xaf) facts.kind = i.rep ? 'rep-string' : 'string';
  else if (pushesStack(i)) facts.kind = 'stack-write';
  if (i.isMem && !(i.map === 0 && i.op >= 0xa0 && i.op <= 0xa1)) {
    if (isStateSave(i)) {
      facts.uncomparable = true;
      facts.overwritten.push([effectiveAddress(i, before), i.map === 0x0f && i.op === 0xae && (i.reg & 7) === 0 ? 512 : 576]);
    }
    else if (!isPureLoad(i)) {
      let a = effectiveAddress(i, before);
      // bt/bts/btr/btc with a register offset address a bit string around the operand.
      if (i.map === 0x0f && (i.op === 0xab || i.op === 0xb3 || i.op === 0xbb || i.op === 0xa3)) {
        const s = i.opsize;
        let off = before.big(GPR[i.reg]) & ((1n << BigInt(s * 8)) - 1n);
        if (off >> BigInt(s * 8 - 1)) off -= 1n << BigInt(s * 8);
        a += Number(off >> 3n);
        facts.memory.push([a, 1]);
      } else facts.memory.push([a, operandSize(i)]);
    }
  }
  return facts;
}

