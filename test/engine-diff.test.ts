// Differential test of the translator (src/cpu/jit/) against the interpreter:
// random instruction sequences, built from a list of encodings, run from the
// same random register, flag and memory state under both engines must end in
// identical registers, flags, memory, rip, stop reason and instruction count —
// including when an instruction faults in the middle of a block.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu, Stop } from '../src/cpu/cpu.js';
import { Engine, runStats, type EngineMode } from '../src/cpu/engine.js';
import { AddressSpace } from '../src/mem/address-space.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import { wasmStats } from '../src/cpu/wasm/compile.js';
import { nestedReturns } from '../src/cpu/wasm/chain.js';
import { Alu, alu } from '../src/cpu/ops/alu.js';

const CODE = 0x400000;
const DATA = 0x10000000;
const DATA_PAGES = 4;
const STACK = 0x7ffff0000000;
/** A mapped page that is read-only: stores to it fault. */
const RO = 0x20000000;

// ------------------------------------------------------------------ random

export class Rng {
  constructor(private s: number) {}
  next(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }
  /** An interesting 32-bit value: edge cases more often than uniform. */
  word(): number {
    switch (this.int(6)) {
      case 0: return this.pick([0, 1, -1, 0x7fffffff, -0x80000000, 0x80, 0x7f, 0xff, 0x8000, 0xffff, 31, 32, 63, 64]);
      case 1: return this.int(256);
      case 2: return -this.int(256);
      default: return this.next() | 0;
    }
  }
}

// ------------------------------------------------------------------ encoding

/** Registers generated instructions may write. rbx and rbp hold bases, r13 a small index, rsp the stack. */
const W = [0, 1, 2, 6, 7, 8, 9, 10, 11, 12, 14, 15];
const RBX = 3, RBP = 5, R13 = 13;

type RM = { reg: number } | { base: number; index: number; scale: number; disp: number };

interface Enc {
  rex: number;
  modrm: number[];
}

function encRM(regField: number, rm: RM): Enc {
  let rex = 0;
  if (regField & 8) rex |= 4;
  if ('reg' in rm) {
    if (rm.reg & 8) rex |= 1;
    return { rex, modrm: [0xc0 | ((regField & 7) << 3) | (rm.reg & 7)] };
  }
  const b = rm.base, x = rm.index;
  if (b & 8) rex |= 1;
  if (x >= 0 && x & 8) rex |= 2;
  const d = rm.disp;
  const mod = d === 0 && (b & 7) !== 5 ? 0 : d >= -128 && d <= 127 ? 1 : 2;
  const dispBytes = mod === 1 ? [d & 0xff] : mod === 2 ? [d & 0xff, (d >> 8) & 0xff, (d >> 16) & 0xff, (d >> 24) & 0xff] : [];
  if (x < 0 && (b & 7) !== 4) return { rex, modrm: [(mod << 6) | ((regField & 7) << 3) | (b & 7), ...dispBytes] };
  const sib = (rm.scale << 6) | ((x < 0 ? 4 : x & 7) << 3) | (b & 7);
  return { rex, modrm: [(mod << 6) | ((regField & 7) << 3) | 4, sib, ...dispBytes] };
}

const imm8 = (v: number) => [v & 0xff];
const imm16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
const imm32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];

/** Operand size 1/2/4/8: the prefix bytes and REX.W it needs. */
function sizePrefix(size: number): { pre: number[]; w: number } {
  return { pre: size === 2 ? [0x66] : [], w: size === 8 ? 8 : 0 };
}

export class Gen {
  constructor(readonly r: Rng, readonly allowFaults: boolean) {}

  mem(): RM {
    const r = this.r;
    if (this.allowFaults && r.chance(0.03)) return { base: RBP, index: -1, scale: 0, disp: r.int(64) };
    const disp = r.chance(0.2) ? r.int(8000) - 4000 : r.int(256) - 128;
    if (r.chance(0.3)) return { base: RBX, index: R13, scale: r.int(4), disp };
    return { base: RBX, index: -1, scale: 0, disp: r.chance(0.1) ? 0 : disp };
  }
  /** A destination r/m operand (register from W, or memory). */
  dst(memOk = true): RM {
    return memOk && this.r.chance(0.35) ? this.mem() : { reg: this.r.pick(W) };
  }
  /** Any readable register. */
  src(): number {
    return this.r.chance(0.8) ? this.r.pick(W) : this.r.pick([RBX, RBP, R13, 4]);
  }

  /** Assembles prefix/REX/opcode/modrm/imm, handling byte-register encodings. */
  asm(size: number, opcode: number[], regField: number, rm: RM, imm: number[] = [], byteRegs = false): number[] {
    const { pre, w } = sizePrefix(size);
    const e = encRM(regField, rm);
    let rex = e.rex | w;
    if (byteRegs) {
      // Byte registers 4..7 mean spl..dil with any REX, ah..bh without: always emit REX (registers come from W).
      rex |= 0x40;
    }
    const bytes = [...pre];
    if (rex) bytes.push(0x40 | rex);
    return [...bytes, ...opcode, ...e.modrm, ...imm];
  }

  immFor(size: number): number[] {
    const v = this.r.word();
    return size === 1 ? imm8(v) : size === 2 ? imm16(v) : imm32(v);
  }
  size(): number {
    return this.r.pick([1, 2, 4, 8, 4, 8]);
  }

  /** One random instruction (never a control transfer). */
  instr(): number[] {
    const r = this.r;
    switch (r.int(29)) {
      case 27:
      case 28: {
        // The SSE2 forms the translator handles natively (emit-sse.ts); memory operands are often misaligned (#GP on the aligned forms).
        const x = r.int(16), y = r.int(16);
        const xm = () => (r.chance(0.4) ? this.mem() : { reg: y });
        const sse = (pfx: number[], op: number, rm: RM, size = 4, imm: number[] = []) => {
          const body = this.asm(size, [0x0f, op], x, rm, imm);
          return [...pfx, ...body];
        };
        switch (r.int(12)) {
          case 0: return sse(r.pick([[], [0x66]]), r.pick([0x10, 0x28, 0x54, 0x55, 0x56, 0x57]), xm());
          case 1: return sse(r.pick([[], [0x66]]), r.pick([0x11, 0x29]), xm());
          case 2: return sse([r.pick([0x66, 0xf3])], 0x6f, xm());
          case 3: return sse([r.pick([0x66, 0xf3])], 0x7f, xm());
          case 4: case 5: return sse([0x66], r.pick([0xef, 0xeb, 0xdb, 0xdf, 0x74, 0x75, 0x76, 0xfe, 0xfa, 0xda, 0xde]), xm());
          case 6: return [0x66, ...this.asm(4, [0x0f, 0xd7], r.pick(W), { reg: y })];
          case 7: return sse([0x66], 0x70, xm(), 4, imm8(r.int(256)));
          case 8: return [0x66, ...this.asm(r.pick([4, 8]), [0x0f, 0x6e], x, r.chance(0.4) ? this.mem() : { reg: this.src() })];
          case 9: return [0x66, ...this.asm(r.pick([4, 8]), [0x0f, 0x7e], x, this.dst())];
          case 10: return sse([0xf3], 0x7e, xm());
          default: return sse([0x66], 0xd6, xm());
        }
      }
      case 26: {
        // Fallbacks that assign unusual registers: BMI (VEX.vvvv destinations), ADX, movbe, crc32
        const d = r.pick(W), v = r.pick(W), m = r.pick(W), w = r.chance(0.5) ? 1 : 0;
        const vex = (pp: number, op: number, reg: number, vvvv: number, rm: number) => [
          0xc4, ((reg & 8 ? 0 : 1) << 7) | (1 << 6) | ((rm & 8 ? 0 : 1) << 5) | 2, (w << 7) | ((~vvvv & 15) << 3) | pp, op, 0xc0 | ((reg & 7) << 3) | (rm & 7)];
        switch (r.int(6)) {
          case 0: return vex(0, 0xf2, d, v, m); // andn
          case 1: return vex(3, 0xf6, d, v, m); // mulx
          case 2: return vex(0, 0xf3, 1, v, m); // blsr
          case 3: return [r.pick([0x66, 0xf3]), ...this.asm(r.pick([4, 8]), [0x0f, 0x38, 0xf6], d, { reg: m })]; // adcx/adox
          case 4: return this.asm(r.pick([4, 8]), [0x0f, 0x38, r.pick([0xf0, 0xf1])], d, this.mem()); // movbe
          default: return [0xf2, ...this.asm(r.pick([4, 8]), [0x0f, 0x38, 0xf1], d, { reg: m })]; // crc32
        }
      }
      case 24:
      case 25: {
        // SSE (interpreter fallbacks): GPR <-> xmm moves, conversions, flag-setting compares, memory forms
        const x = r.int(8), y = r.int(8);
        switch (r.int(9)) {
          case 0: return [0x66, ...this.asm(4, [0x0f, 0x6e], x, r.chance(0.3) ? this.mem() : { reg: this.src() })];
          case 1: return [0x66, ...this.asm(r.pick([4, 8]), [0x0f, 0x7e], x, this.dst())];
          case 2: return [0x66, ...this.asm(4, [0x0f, 0xd7], r.pick(W), { reg: y })];
          case 3: return [0xf2, ...this.asm(r.pick([4, 8]), [0x0f, 0x2c], r.pick(W), r.chance(0.3) ? this.mem() : { reg: y })];
          case 4: return [0x66, ...this.asm(4, [0x0f, r.pick([0xef, 0x74, 0xeb, 0xdb, 0xfe, 0xd4])], x, r.chance(0.3) ? this.mem() : { reg: y })];
          case 5: return [0x66, ...this.asm(4, [0x0f, r.pick([0x2e, 0x2f])], x, { reg: y })];
          case 6: return [0xf3, ...this.asm(4, [0x0f, 0x6f], x, this.mem())];
          case 7: return [0xf3, ...this.asm(4, [0x0f, 0x7f], x, this.mem())];
          default: return [0x66, ...this.asm(4, [0x0f, 0xc5], r.pick(W), { reg: y }, imm8(r.int(8)))];
        }
      }
      case 0:
      case 1:
      case 2: {
        // ALU r/m, reg and reg, r/m
        const s = this.size(), op = r.int(8), dir = r.int(2);
        const base = op * 8 + (s === 1 ? 0 : 1) + (dir ? 2 : 0);
        if (dir === 0) return this.asm(s, [base], this.src(), this.dst(), [], s === 1);
        return this.asm(s, [base], r.pick(W), r.chance(0.4) ? this.mem() : { reg: this.src() }, [], s === 1);
      }
      case 3:
      case 4: {
        // group 1 imm
        const s = this.size(), op = r.int(8);
        if (s !== 1 && r.chance(0.5)) return this.asm(s, [0x83], op, this.dst(), imm8(r.word()));
        return this.asm(s, [s === 1 ? 0x80 : 0x81], op, this.dst(), this.immFor(s === 8 ? 4 : s), s === 1);
      }
      case 5: {
        // test r/m, reg / r/m, imm / al-eax imm
        const s = this.size();
        switch (r.int(3)) {
          case 0: return this.asm(s, [s === 1 ? 0x84 : 0x85], this.src(), this.dst(), [], s === 1);
          case 1: return this.asm(s, [s === 1 ? 0xf6 : 0xf7], 0, this.dst(), this.immFor(s === 8 ? 4 : s), s === 1);
          default: {
            const { pre, w } = sizePrefix(s);
            return [...pre, ...(w ? [0x48] : []), s === 1 ? 0xa8 : 0xa9, ...this.immFor(s === 8 ? 4 : s)];
          }
        }
      }
      case 6: {
        // inc/dec/not/neg/mul/imul1
        const s = this.size();
        if (r.chance(0.5)) return this.asm(s, [s === 1 ? 0xfe : 0xff], r.int(2), this.dst(), [], s === 1);
        return this.asm(s, [s === 1 ? 0xf6 : 0xf7], r.pick([2, 3, 4, 5]), this.dst(), [], s === 1);
      }
      case 7: {
        // imul reg, r/m(, imm)
        const s = r.pick([2, 4, 8]);
        const rm = r.chance(0.3) ? this.mem() : { reg: this.src() };
        switch (r.int(3)) {
          case 0: return this.asm(s, [0x0f, 0xaf], r.pick(W), rm);
          case 1: return this.asm(s, [0x6b], r.pick(W), rm, imm8(r.word()));
          default: return this.asm(s, [0x69], r.pick(W), rm, s === 2 ? imm16(r.word()) : imm32(r.word()));
        }
      }
      case 8:
      case 9: {
        // shifts and rotates by imm, 1, cl
        const s = this.size(), op = r.int(8);
        switch (r.int(3)) {
          case 0: return this.asm(s, [s === 1 ? 0xc0 : 0xc1], op, this.dst(), imm8(r.chance(0.2) ? r.int(256) : r.int(65)), s === 1);
          case 1: return this.asm(s, [s === 1 ? 0xd0 : 0xd1], op, this.dst(), [], s === 1);
          default: return this.asm(s, [s === 1 ? 0xd2 : 0xd3], op, this.dst(), [], s === 1);
        }
      }
      case 10:
      case 11: {
        // mov forms
        const s = this.size();
        switch (r.int(5)) {
          case 0: return this.asm(s, [s === 1 ? 0x88 : 0x89], this.src(), this.dst(), [], s === 1);
          case 1: return this.asm(s, [s === 1 ? 0x8a : 0x8b], r.pick(W), r.chance(0.5) ? this.mem() : { reg: this.src() }, [], s === 1);
          case 2: return this.asm(s, [s === 1 ? 0xc6 : 0xc7], 0, this.dst(), this.immFor(s === 8 ? 4 : s), s === 1);
          case 3: {
            const d = r.pick(W), { pre, w } = sizePrefix(s);
            const rex = w | (d & 8 ? 1 : 0) | (s === 1 ? 0x40 : 0);
            const imm = s === 8 ? [...imm32(r.word()), ...imm32(r.word())] : this.immFor(s);
            return [...pre, ...(rex ? [0x40 | rex] : []), (s === 1 ? 0xb0 : 0xb8) + (d & 7), ...imm];
          }
          default: {
            // lea with random base/index/scale/disp (no memory access)
            const m: RM = { base: this.src(), index: r.chance(0.5) ? r.pick([...W, RBX]) : -1, scale: r.int(4), disp: r.word() };
            if ('base' in m && m.index === 4) m.index = -1;
            return this.asm(r.pick([2, 4, 8, 8]), [0x8d], r.pick(W), m);
          }
        }
      }
      case 12: {
        // movzx / movsx / movsxd
        const s = r.pick([2, 4, 8]);
        const kind = r.int(5);
        const rm = r.chance(0.4) ? this.mem() : { reg: this.src() };
        if (kind === 4) return this.asm(8, [0x63], r.pick(W), rm);
        const op = [0xb6, 0xb7, 0xbe, 0xbf][kind];
        return this.asm(s, [0x0f, op], r.pick(W), rm, [], op === 0xb6 || op === 0xbe);
      }
      case 13: {
        // cmov / setcc
        const cc = r.int(16);
        if (r.chance(0.5)) return this.asm(r.pick([2, 4, 8]), [0x0f, 0x40 + cc], r.pick(W), r.chance(0.3) ? this.mem() : { reg: this.src() });
        return this.asm(1, [0x0f, 0x90 + cc], 0, this.dst(), [], true);
      }
      case 14: {
        // xchg
        const s = this.size();
        return this.asm(s, [s === 1 ? 0x86 : 0x87], r.pick(W), this.dst(), [], s === 1);
      }
      case 15: {
        // cbw family, cwd family, bswap
        const k = r.int(3);
        const s = r.pick([2, 4, 8]);
        const { pre, w } = sizePrefix(s);
        if (k === 0) return [...pre, ...(w ? [0x48] : []), 0x98];
        if (k === 1) return [...pre, ...(w ? [0x48] : []), 0x99];
        const d = r.pick(W);
        return [0x40 | (s === 8 ? 8 : 0) | (d & 8 ? 1 : 0), 0x0f, 0xc8 + (d & 7)];
      }
      case 16:
      case 17: {
        // push / pop (balanced enough; the stack has room)
        const d = r.pick(W);
        const rex = d & 8 ? [0x41] : [];
        switch (r.int(5)) {
          case 0: return [...rex, 0x50 + (d & 7)];
          case 1: return [...rex, 0x58 + (d & 7)];
          case 2: return r.chance(0.5) ? [0x6a, r.int(256)] : [0x68, ...imm32(r.word())];
          case 3: return this.asm(4, [0xff], 6, r.chance(0.5) ? this.mem() : { reg: this.src() });
          default: return [...rex, 0x50 + (this.src() & 7)];
        }
      }
      case 18: {
        // flag instructions; string instructions (rsi/rdi point into the data pages here, see setup)
        if (r.chance(0.5)) return [r.pick([0xf8, 0xf9, 0xf5, 0xfc, 0xfd])];
        const op = r.pick([0xa4, 0xa5, 0xaa, 0xab, 0xac, 0xad]);
        const pre = r.chance(0.3) ? [0xf3] : [];
        const w = op & 1 && r.chance(0.5) ? [0x48] : op & 1 && r.chance(0.3) ? [0x66] : [];
        return [...pre, ...w, op];
      }
      case 19: {
        // adc/sbb chains (flag consumers)
        const s = this.size(), op = r.pick([2, 3]);
        return this.asm(s, [op * 8 + (s === 1 ? 0 : 1)], this.src(), this.dst(), [], s === 1);
      }
      case 20: {
        // bt family, bsf/bsr, popcnt/tzcnt/lzcnt
        const s = r.pick([2, 4, 8]);
        switch (r.int(4)) {
          case 0: return this.asm(s, [0x0f, 0xba], 4 + r.int(4), this.dst(), imm8(r.int(256)));
          case 1: return this.asm(s, [0x0f, r.pick([0xa3, 0xab, 0xb3, 0xbb])], this.src(), { reg: r.pick(W) });
          case 2: return this.asm(s, [0x0f, r.pick([0xbc, 0xbd])], r.pick(W), r.chance(0.3) ? this.mem() : { reg: this.src() });
          default: return [0xf3, ...this.asm(s, [0x0f, r.pick([0xb8, 0xbc, 0xbd])], r.pick(W), { reg: this.src() })];
        }
      }
      case 21: {
        // shld/shrd
        const s = r.pick([2, 4, 8]);
        if (r.chance(0.5)) return this.asm(s, [0x0f, r.pick([0xa4, 0xac])], this.src(), this.dst(), imm8(r.int(64)));
        return this.asm(s, [0x0f, r.pick([0xa5, 0xad])], this.src(), this.dst());
      }
      case 22: {
        // div/idiv with a small divisor register chance of divide errors
        const s = r.pick([4, 8]);
        return this.asm(s, [0xf7], r.pick([6, 7]), { reg: r.pick([1, 6, 7, 8]) });
      }
      default: {
        // cmp with memory (flag producer + load)
        const s = this.size();
        return this.asm(s, [s === 1 ? 0x38 : 0x39], this.src(), this.mem(), [], s === 1);
      }
    }
  }
}

// ------------------------------------------------------------------ machine

interface Outcome {
  xmm: number[];
  mxcsr: number;
  stop: Stop;
  rip: number;
  icount: number;
  regs: number[];
  eflags: number;
  cacheFlushes: number;
  cachedInstrs: number;
  data: number[];
  stack: number[];
}

/** A WebAssembly pool (as the CLI's): regions whose instructions all have WebAssembly translations become WebAssembly. */
const WASM_POOL = new PhysicalMemory(1 << 22, true);

/** Protection of the code pages (7 for tests of code that writes itself). */
let codeProt = 5;

function machine(code: number[], wasm = false): { mem: AddressSpace; cpu: Cpu } {
  const mem = new AddressSpace(wasm ? WASM_POOL : new PhysicalMemory(1 << 18));
  mem.mmap(CODE, 0x2000, codeProt, { fixed: true, data: new Uint8Array(code) });
  mem.mmap(DATA, DATA_PAGES * 4096, 3, { fixed: true });
  mem.mmap(RO, 4096, 1, { fixed: true });
  mem.mmap(STACK - 0x4000, 0x8000, 3, { fixed: true });
  return { mem, cpu: new Cpu(mem) };
}

function setup(rng: Rng, cpu: Cpu, mem: AddressSpace): void {
  for (let k = 0; k < 32; k++) cpu.r[k] = rng.word();
  for (const n of W) if (rng.chance(0.3)) cpu.r[2 * n + 1] = rng.pick([0, -1]);
  cpu.setS(3, DATA + 2 * 4096 + rng.int(64)); // rbx: base into the data pages
  cpu.setS(5, rng.chance(0.5) ? 0x30000000 : RO); // rbp: unmapped or read-only
  cpu.setS(13, rng.int(8)); // r13: small index
  // rsi/rdi/rcx often point into the data pages with a small count, for the string instructions.
  if (rng.chance(0.7)) {
    cpu.setS(6, DATA + 4096 + rng.int(2048));
    cpu.setS(7, DATA + 4096 + rng.int(2048));
    cpu.setS(1, rng.chance(0.3) ? 0 : rng.int(40));
  }
  cpu.setS(4, STACK - 0x100 - 8 * rng.int(16)); // rsp
  cpu.rip = CODE;
  // Start from either explicit flags or a pending lazy operation.
  if (rng.chance(0.5)) cpu.setEflags(rng.next() & 0x8d5);
  else {
    // A pending lazy operation, as an instruction leaves it (consistent: the result is a OP b).
    const size = rng.pick([1, 2, 4, 8]), m = size === 1 ? 0xff : size === 2 ? 0xffff : -1;
    alu(cpu, rng.pick([Alu.Add, Alu.Sub, Alu.And, Alu.Adc, Alu.Sbb]), size, rng.word() & m, rng.word(), rng.word() & m, rng.word());
    // Below 64 bits the interpreter leaves the high halves of the result and operands as an earlier 64-bit
    // operation left them: translated code must not read them.
    if (size < 8) {
      cpu.fresh = rng.word();
      cpu.fah = rng.word();
      cpu.fbh = rng.word();
    }
  }
  for (let k = 0; k < 64; k++) cpu.xmm[k] = rng.word();
  const data = new Uint8Array(DATA_PAGES * 4096);
  for (let k = 0; k < data.length; k++) data[k] = rng.next() & 0xff;
  mem.writeBytes(DATA, data);
}

export function run(code: number[], seed: number, mode: EngineMode, budget: number, threshold = 1, codeCacheInstrs?: number, wasm = false): Outcome {
  const { mem, cpu } = machine(code, wasm);
  setup(new Rng(seed), cpu, mem);
  const e = new Engine(mem, { engine: mode, jitThreshold: threshold, ...(codeCacheInstrs !== undefined ? { codeCacheInstrs } : {}) });
  const stop = e.run(cpu, budget);
  const out = {
    cacheFlushes: e.cacheFlushes,
    cachedInstrs: e.cachedInstructions,
    stop,
    rip: cpu.rip,
    icount: cpu.icount,
    regs: Array.from(cpu.r),
    xmm: Array.from(cpu.xmm),
    mxcsr: cpu.mxcsr,
    eflags: cpu.getEflags(),
    data: Array.from(mem.peek(DATA, DATA_PAGES * 4096)!),
    stack: Array.from(mem.peek(STACK - 0x400, 0x400)!),
  };
  if (wasm) mem.destroy(); // its frames go back to the shared pool
  return out;
}

function hex(bytes: number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Runs the code under the interpreter and under the translator, with JavaScript regions and with WebAssembly ones: all must agree. */
function compare(code: number[], seed: number, what: string, budget = 10_000, threshold = 1, codeCacheInstrs?: number): Outcome {
  const a = run(code, seed, 'interp', budget);
  same(a, run(code, seed, 'jit', budget, threshold, codeCacheInstrs, true), `${what} (WebAssembly regions) seed=${seed} code=${hex(code)}`);
  const b = run(code, seed, 'jit', budget, threshold, codeCacheInstrs);
  return same(a, b, `${what} seed=${seed} code=${hex(code)}`);
}

function same(a: Outcome, b: Outcome, ctx: string): Outcome {
  assert.equal(b.stop, a.stop, `stop: ${ctx}`);
  assert.equal(b.rip, a.rip, `rip: ${ctx}`);
  assert.equal(b.icount, a.icount, `icount: ${ctx}`);
  for (let k = 0; k < 32; k++) assert.equal(b.regs[k], a.regs[k], `r[${k}] (reg ${k >> 1} ${k & 1 ? 'hi' : 'lo'}): ${ctx}`);
  assert.equal(b.eflags.toString(16), a.eflags.toString(16), `eflags: ${ctx}`);
  assert.deepEqual(b.xmm, a.xmm, `xmm: ${ctx}`);
  assert.equal(b.mxcsr.toString(16), a.mxcsr.toString(16), `mxcsr: ${ctx}`);
  assert.deepEqual(b.data, a.data, `data memory: ${ctx}`);
  assert.deepEqual(b.stack, a.stack, `stack memory: ${ctx}`);
  return b;
}

/** Straight-line code ending in a conditional branch over two ud2s (both paths stop with SIGILL). */
function straightLine(g: Gen, count: number): number[] {
  const code: number[] = [];
  for (let k = 0; k < count; k++) code.push(...g.instr());
  code.push(0x70 + g.r.int(16), 2, 0x0f, 0x0b, 0x0f, 0x0b);
  return code;
}

/** mov ecx, N; L: body; dec ecx; jnz L; ud2 — the block at L loops inside its translated function. */
function loop(g: Gen, count: number, iterations: number): number[] {
  const body: number[] = [];
  for (let k = 0; k < count; k++) {
    let ins = g.instr();
    // The body must not touch rcx (the counter): retry until it does not mention register 1 as a destination.
    for (let tries = 0; tries < 20 && touchesRcx(ins); tries++) ins = g.instr();
    if (touchesRcx(ins)) continue;
    body.push(...ins);
  }
  const loopBody = [...body, 0xff, 0xc9]; // dec ecx
  const rel = -(loopBody.length + 2);
  return [0xb9, ...imm32(iterations), ...loopBody, 0x75, rel & 0xff, 0x0f, 0x0b];
}

/** A counted loop whose body has forward conditional branches over random segments (multi-block regions, fall-through layout). */
export function branchy(g: Gen, segments: number, iterations: number): number[] {
  const seg = (): number[] => {
    const out: number[] = [];
    for (let k = 1 + g.r.int(4); k > 0; k--) {
      let ins = g.instr();
      for (let tries = 0; tries < 20 && touchesRcx(ins); tries++) ins = g.instr();
      if (!touchesRcx(ins)) out.push(...ins);
    }
    return out;
  };
  const body: number[] = [];
  let next = seg();
  for (let k = 0; k < segments; k++) {
    const cur = next;
    next = seg();
    body.push(...cur);
    if (g.r.chance(0.6) && next.length < 120) body.push(0x70 + g.r.int(16), next.length);
  }
  body.push(...next, 0xff, 0xc9); // dec ecx
  const rel = -(body.length + 2);
  if (rel < -128) return [0xb9, ...imm32(iterations), ...body, 0x0f, 0x85, ...imm32(rel - 4), 0x0f, 0x0b];
  return [0xb9, ...imm32(iterations), ...body, 0x75, rel & 0xff, 0x0f, 0x0b];
}

/** Conservative: any modrm-bearing instruction could write rcx; only allow ones whose encodings avoid register 1 entirely. */
function touchesRcx(ins: number[]): boolean {
  // Decode just enough: reject instructions whose bytes contain a modrm naming rcx in reg or rm, or cl-count shifts, or short forms on rcx.
  let p = 0;
  while (ins[p] === 0x66 || ins[p] === 0xf3) p++;
  let rex = 0;
  if ((ins[p] & 0xf0) === 0x40) rex = ins[p++];
  const op = ins[p];
  if (op === 0x0f) {
    const op2 = ins[p + 1];
    if (op2 >= 0xc8 && op2 <= 0xcf) return (op2 & 7) === 1 && !(rex & 1);
    const m = ins[p + 2];
    return (((m >> 3) & 7) === 1 && !(rex & 4)) || ((m >> 6) === 3 && (m & 7) === 1 && !(rex & 1)) || op2 === 0xa5 || op2 === 0xad;
  }
  if (op >= 0x50 && op <= 0x5f) return (op & 7) === 1 && !(rex & 1);
  if (op >= 0xb0 && op <= 0xbf) return (op & 7) === 1 && !(rex & 1);
  if (op === 0x98 || op === 0x99 || (op >= 0xf5 && op <= 0xf9) || op === 0x6a || op === 0x68 || op === 0xa8 || op === 0xa9) return false;
  if (op === 0xd2 || op === 0xd3) return true;
  if (op === 0xf6 || op === 0xf7) {
    const m = ins[p + 1];
    const r = (m >> 3) & 7;
    if (r >= 4) return true; // mul/div write rdx:rax; keep it simple
  }
  const m = ins[p + 1];
  if (m === undefined) return false;
  return (((m >> 3) & 7) === 1 && !(rex & 4)) || ((m >> 6) === 3 && (m & 7) === 1 && !(rex & 1));
}

/** ENGINE_DIFF_SCALE=N runs N times as many random cases (default 1). */
const SCALE = Number(process.env.ENGINE_DIFF_SCALE ?? 1);

if (!process.env.ENGINE_DIFF_NO_TESTS) describe('translator vs interpreter', () => {
  test('single random instructions (no faults)', () => {
    const before = wasmStats.regions, fallbacksBefore = wasmStats.fallbacks;
    for (let seed = 1; seed <= 1000 * SCALE; seed++) {
      const g = new Gen(new Rng(seed * 7919), false);
      compare(straightLine(g, 1), seed, 'single');
    }
    // Most of the integer encodings have WebAssembly translations, the others run through the fallback
    // (wasm/fallback.ts) inside WebAssembly regions: the comparison above covered both.
    assert.ok(wasmStats.regions - before > 300, `only ${wasmStats.regions - before} WebAssembly regions`);
    assert.ok(wasmStats.fallbacks - fallbacksBefore > 50, `only ${wasmStats.fallbacks - fallbacksBefore} fallbacks`);
  });
  test('random straight-line sequences', () => {
    for (let seed = 1; seed <= 400 * SCALE; seed++) {
      const g = new Gen(new Rng(seed * 104729), false);
      compare(straightLine(g, 2 + g.r.int(20)), seed, 'sequence');
    }
  });
  test('random sequences that may fault midway (precise state at the fault)', () => {
    for (let seed = 1; seed <= 400 * SCALE; seed++) {
      const g = new Gen(new Rng(seed * 15485863), true);
      compare(straightLine(g, 2 + g.r.int(20)), seed, 'faulting');
    }
  });
  test('branchy loops: several blocks in one translated region', () => {
    for (let seed = 1; seed <= 150 * SCALE; seed++) {
      const g = new Gen(new Rng(seed * 49979687), seed % 4 === 0);
      const code = branchy(g, 2 + g.r.int(6), 1 + g.r.int(30));
      // Translating after a few runs, when the other blocks of the loop have run too: one region holds them all.
      compare(code, seed, 'branchy', 10_000, 3);
      compare(code, seed, 'branchy, small budget', 1 + g.r.int(200), 3);
    }
  });
  test('a code cache smaller than the loop: flushed and refilled while it runs, same results', () => {
    let flushes = 0;
    for (let seed = 1; seed <= 40 * SCALE; seed++) {
      const g = new Gen(new Rng(seed * 86028121), seed % 4 === 0);
      const code = branchy(g, 3 + g.r.int(5), 2 + g.r.int(30));
      const out = compare(code, seed, 'branchy, small code cache', 10_000, 2, 6);
      flushes += out.cacheFlushes;
      // The bound holds, except that the cache always takes the block about to run (at most 128 instructions).
      assert.ok(out.cachedInstrs <= 128, `cached ${out.cachedInstrs} instructions`);
    }
    assert.ok(flushes > 0, 'the bound never made the cache flush');
  });
  // The translator probes a page once per block and base register, and later accesses through that register
  // (moved by push, pop, add or sub) only check that they stay in the page: here they step over page
  // boundaries, onto read-only and unmapped pages, and must fault or continue exactly as the interpreter does.
  test('page windows: stack and base-register accesses at page boundaries', () => {
    const imm64 = (v: number) => [...imm32(v % 4294967296 | 0), ...imm32(Math.floor(v / 4294967296))];
    const body = [
      0x50, 0x52, 0x56, // push rax, rdx, rsi
      0x48, 0x89, 0x7c, 0x24, 0x08, // mov [rsp+8], rdi
      0x4c, 0x8b, 0x44, 0x24, 0x10, // mov r8, [rsp+16]
      0x48, 0x83, 0xec, 0x10, // sub rsp, 16
      0x4c, 0x89, 0x04, 0x24, // mov [rsp], r8
      0x48, 0x83, 0xc4, 0x10, // add rsp, 16
      0x41, 0x59, 0x41, 0x5a, 0x41, 0x5b, // pop r9, r10, r11
      0x8b, 0x43, 0xf8, // mov eax, [rbx-8]
      0x89, 0x53, 0x04, // mov [rbx+4], edx
      0x66, 0x01, 0x03, // add [rbx], ax
      0x8a, 0x93, 0xff, 0x0f, 0x00, 0x00, // mov dl, [rbx+4095]
      0x48, 0x83, 0xc3, 0x08, // add rbx, 8
      0xff, 0xc9, // dec ecx
    ];
    const stacks = [STACK - 0x4000, STACK - 0x2000, 0x30000000 + 0x1000];
    const bases = [DATA, DATA + 4096 - 16, DATA + DATA_PAGES * 4096 - 24, RO + 8, RO + 4096 - 8];
    let seed = 0;
    for (const s of stacks) {
      for (const d of [0, 4, 8, 12, 16, 24, 32, 40]) {
        for (const b of bases) {
          const code = [0x48, 0xbc, ...imm64(s + d), 0x48, 0xbb, ...imm64(b), 0xb9, ...imm32(1 + (seed % 7)), ...body, 0x75, -(body.length + 2) & 0xff, 0x0f, 0x0b];
          seed++;
          compare(code, seed, `windows rsp=${(s + d).toString(16)} rbx=${b.toString(16)}`, 10_000, 1);
          compare(code, seed, `windows rsp=${(s + d).toString(16)} rbx=${b.toString(16)}, translated at the 2nd run`, 10_000, 2);
        }
      }
    }
  });
  // Accesses through one base register near an earlier one but on the next page (a structure across a page
  // boundary), and far from it (fields kilobytes apart): the translation must probe those pages itself, and
  // fault where the interpreter does when they are unmapped, on whichever run of the loop gets there first.
  test('page windows: fields of one structure on different pages', () => {
    const imm64 = (v: number) => [...imm32(v % 4294967296 | 0), ...imm32(Math.floor(v / 4294967296))];
    const near = [
      0x8b, 0x43, 0xf8, // mov eax, [rbx-8]
      0x48, 0x8b, 0x73, 0x70, // mov rsi, [rbx+0x70]
      0x03, 0x73, 0xfc, // add esi, [rbx-4]
      0x89, 0x73, 0x68, // mov [rbx+0x68], esi
      0x89, 0x43, 0xf8, // mov [rbx-8], eax
    ];
    const far = [
      0x8b, 0x43, 0xf8, // mov eax, [rbx-8]
      0x8b, 0xb3, 0x00, 0x18, 0x00, 0x00, // mov esi, [rbx+0x1800]
      0x89, 0xb3, 0x00, 0x10, 0x00, 0x00, // mov [rbx+0x1000], esi
      0x03, 0x73, 0xfc, // add esi, [rbx-4]
      0x89, 0x43, 0xf8, // mov [rbx-8], eax
    ];
    const end = DATA + DATA_PAGES * 4096;
    const cases: [string, number[], number[]][] = [
      ['near', near, [DATA + 8, DATA + 4096 - 0x78, DATA + 4096 - 0x60, end - 0x78 - 8, end - 0x78 - 24, RO + 4096 - 0x78]],
      ['far', far, [DATA + 8, DATA + 0x800 - 24, DATA + 0x1000 - 8, end - 0x1800 - 16, end - 0x1800 - 32, RO + 16]],
    ];
    let seed = 0;
    for (const [what, body, bases] of cases) {
      for (const b of bases) {
        const loop = [...body, 0x48, 0x83, 0xc3, 0x08, 0xff, 0xc9]; // add rbx, 8; dec ecx
        const code = [0x48, 0xbb, ...imm64(b), 0xb9, ...imm32(6), ...loop, 0x75, -(loop.length + 2) & 0xff, 0x0f, 0x0b];
        seed++;
        for (const threshold of [1, 2, 3]) compare(code, seed, `${what} fields rbx=${b.toString(16)}, translated at run ${threshold}`, 10_000, threshold);
      }
    }
  });
  // bt/bts/btr/btc (register and memory operands, immediate and register offsets: a memory operand's register
  // offset addresses bytes before and after it) and cvtsi2sd/cvtsi2ss (exact conversions run in the region,
  // inexact ones leave for the interpreter's rounding): not produced by the random generator.
  test('bit tests and integer-to-float conversions in translated regions', () => {
    const before = wasmStats.regions;
    const near = [0x81, 0xe2, ...imm32(0x3ff), 0x48, 0x81, 0xea, ...imm32(0x200)]; // and edx, 0x3ff; sub rdx, 0x200
    const forms: number[][] = [];
    for (const [op, ext] of [[0xa3, 4], [0xab, 5], [0xb3, 6], [0xbb, 7]]) {
      forms.push([0x0f, op, 0xd0], [0x48, 0x0f, op, 0xd0], [0x66, 0x0f, op, 0xd0]); // bt* eax, edx (rax, rdx; ax, dx)
      forms.push([...near, 0x0f, op, 0x13], [...near, 0x48, 0x0f, op, 0x13], [...near, 0x66, 0x0f, op, 0x13]); // bt* [rbx], edx
      for (const n of [0, 5, 31, 33, 63, 200]) forms.push([0x48, 0x0f, 0xba, 0xc0 | (ext << 3), n], [0x0f, 0xba, 0x03 | (ext << 3), n]);
    }
    forms.push([0x0f, 0xa3, 0x13], [0x48, 0x0f, 0xab, 0x13]); // offsets far outside the data pages: a fault at the right address
    for (const [pfx, w] of [[0xf2, 0], [0xf3, 0], [0xf2, 0x48], [0xf3, 0x48]]) {
      const cvt = (modrm: number) => (w ? [pfx, w, 0x0f, 0x2a, modrm] : [pfx, 0x0f, 0x2a, modrm]);
      forms.push(cvt(0xc0), cvt(0x03)); // from eax/rax (random: mostly inexact at 64 bits), from [rbx]
      forms.push([0x48, 0xc1, 0xe8, 0x28, ...cvt(0xc0)]); // shr rax, 40: 24 bits, exact
      forms.push([0x48, 0xc1, 0xe8, 0x28, 0x48, 0xc1, 0xe0, 0x1e, 0x48, 0xf7, 0xd8, ...cvt(0xc0)]); // ... shl rax, 30; neg rax
      forms.push([0x48, 0xc1, 0xf8, 0x08, ...cvt(0xc0)]); // sar rax, 8: 56 bits
    }
    let seed = 1000;
    for (const ins of forms) {
      seed++;
      // Five times over, with rax and xmm1 changed in between (add rax, rdi; paddd xmm1, xmm0).
      const body = [...ins, 0x48, 0x01, 0xf8, 0x66, 0x0f, 0xfe, 0xc8, 0xff, 0xc9];
      const code = [0xb9, ...imm32(5), ...body, 0x75, -(body.length + 2) & 0xff, 0x0f, 0x0b];
      compare(code, seed, `form ${hex(ins)}`);
      compare(code, seed, `form ${hex(ins)}, translated at the 2nd run`, 10_000, 2);
    }
    assert.ok(wasmStats.regions - before >= forms.length, `only ${wasmStats.regions - before} WebAssembly regions for ${forms.length} forms`);
  });
  // An instruction run through the interpreter's exec function inside a translated region (xadd here) changes
  // the immediate of the loop's first instruction at every run: the region must leave after it, and the next
  // run of the loop must see the new code, as the interpreter does.
  test('code written by an instruction inside a translated region', () => {
    codeProt = 7;
    try {
      const code = [
        0xb9, ...imm32(5), // mov ecx, 5
        0xb8, ...imm32(0x11111111), // L: mov eax, 0x11111111 (its immediate at offset 6)
        0x01, 0xc2, // add edx, eax
        0x0f, 0xc1, 0x35, ...imm32(6 - 19), // xadd [rip - 13], esi: the immediate above grows by esi
        0xff, 0xc9, // dec ecx
        0x75, -18 & 0xff, // jnz L
        0x0f, 0x0b,
      ];
      for (let seed = 1; seed <= 20; seed++) {
        for (const threshold of [1, 2, 3]) compare(code, seed, `code written, translated at run ${threshold}`, 10_000, threshold);
      }
    } finally {
      codeProt = 5;
    }
  });
  // A loop calling a function too long to be absorbed into the caller's region: the two regions pass control
  // to each other (call, ret) through the WebAssembly dispatcher (wasm/chain.ts) without returning to the
  // engine, and must still agree with the interpreter, budget boundaries included.
  test('regions passing control to each other (WebAssembly chaining), budget boundaries included', () => {
    const before = wasmStats.chained;
    const forms = [
      [0x48, 0x01, 0xd0], // add rax, rdx
      [0x48, 0x31, 0xf7], // xor rdi, rsi
      [0x48, 0x8d, 0x04, 0x50], // lea rax, [rax + rdx*2]
      [0x48, 0xc1, 0xc0, 0x05], // rol rax, 5
      [0x48, 0x0f, 0xaf, 0xc2], // imul rax, rdx
      [0x48, 0x89, 0xc6], // mov rsi, rax
      [0x48, 0xff, 0xc2], // inc rdx
      [0x48, 0x8b, 0x03], // mov rax, [rbx]
      [0x48, 0x01, 0x43, 0x08], // add [rbx + 8], rax
      [0x48, 0x39, 0xf0], // cmp rax, rsi
      [0x19, 0xd7], // sbb edi, edx
    ];
    for (let seed = 1; seed <= 40 * SCALE; seed++) {
      const r = new Rng(seed * 15487469);
      const fn: number[] = [];
      for (let k = 45 + r.int(20); k > 0; k--) fn.push(...r.pick(forms));
      fn.push(0xc3); // ret
      const loop = [0xe8, ...imm32(0), 0x41, 0xff, 0xcd]; // call F; dec r13d
      const head = [0x41, 0xbd, ...imm32(3 + r.int(30))]; // mov r13d, N
      const jnz = [0x75, -(loop.length + 2) & 0xff];
      const main = [...head, ...loop, ...jnz, 0x0f, 0x0b];
      // The call's target: F right after main.
      const callAt = head.length;
      const rel = main.length - (callAt + 5);
      main.splice(callAt + 1, 4, ...imm32(rel));
      const code = [...main, ...fn];
      compare(code, seed, 'chained call', 20_000, 2);
      compare(code, seed, 'chained call, small budget', 1 + r.int(500), 2);
    }
    assert.ok(wasmStats.chained - before > 10, `only ${wasmStats.chained - before} calls ran more than one region`);
  });
  // Calls out of a region to a function another region runs go through nest (wasm/chain.ts): the callee's
  // regions run and, once control is back at the call's return site, the caller continues in place.
  const nestForms = [
    [0x48, 0x01, 0xd0], // add rax, rdx
    [0x48, 0x31, 0xf7], // xor rdi, rsi
    [0x48, 0x8d, 0x04, 0x50], // lea rax, [rax + rdx*2]
    [0x48, 0xc1, 0xc0, 0x05], // rol rax, 5
    [0x48, 0xff, 0xc2], // inc rdx
    [0x48, 0x8b, 0x03], // mov rax, [rbx]
    [0x48, 0x01, 0x43, 0x08], // add [rbx + 8], rax
    [0x48, 0x39, 0xf0], // cmp rax, rsi
    [0x19, 0xd7], // sbb edi, edx
  ];
  const someForms = (r: Rng, n: number) => Array.from({ length: n }, () => r.pick(nestForms)).flat();
  // Two functions calling each other 60 deep (past NEST_DEPTH: deeper calls leave their region as before).
  // H runs alone first (80 calls that do not recurse), so it is a region of its own when F's forms, and F's
  // calls of H, H's of F go through nest.
  test('calls out of a region continue in place after the callee returns (nest), recursion deeper than NEST_DEPTH', () => {
    const before = nestedReturns(WASM_POOL);
    const F = 0x100, H = 0x1000;
    for (let seed = 1; seed <= 10 * SCALE; seed++) {
      const r = new Rng(seed * 104729);
      const main = [
        0x41, 0xbc, ...imm32(80), // mov r12d, 80
        0x41, 0xbd, ...imm32(1), // W: mov r13d, 1
        0xe8, ...imm32(H - 17), // call H
        0x41, 0xff, 0xcc, 0x75, -16 & 0xff, // dec r12d; jnz W
        0x41, 0xbc, ...imm32(6), // mov r12d, 6
        0x41, 0xbd, ...imm32(40 + r.int(30)), // L: mov r13d, depth
        0xe8, ...imm32(H - 39), // call H
        0x41, 0xff, 0xcc, 0x75, -16 & 0xff, // dec r12d; jnz L
        0x0f, 0x0b,
      ];
      // dec r13d; jz +5; call other; forms; ret
      const fn = (self: number, other: number) => [0x41, 0xff, 0xcd, 0x74, 0x05, 0xe8, ...imm32(other - (self + 10)), ...someForms(r, 45 + r.int(20)), 0xc3];
      const code = new Array<number>(0x2000).fill(0x90);
      const f = fn(F, H), h = fn(H, F);
      code.splice(0, main.length, ...main);
      code.splice(F, f.length, ...f);
      code.splice(H, h.length, ...h);
      for (const threshold of [2, 64]) {
        compare(code, seed, `nested calls, translated at run ${threshold}`, 200_000, threshold);
        compare(code, seed, `nested calls, translated at run ${threshold}, small budget`, 1 + r.int(20_000), threshold);
      }
    }
    assert.ok(nestedReturns(WASM_POOL) - before > 100, `only ${nestedReturns(WASM_POOL) - before} calls continued in place`);
  });
  // H rewrites an immediate of F (on the other code page) that F runs after its call of H returns: the caller,
  // dropped meanwhile, must not go on in its old translation (S_GEN). The write is xadd through the fallback,
  // after which H's region leaves for the next block, R (a block of H's region: the branch over the write
  // enters it too), and control reaches F's return site through regions. H writes when r12 is a multiple of 8,
  // so F is translated again and continues in place in the runs between.
  test('a caller whose code the callee rewrote does not continue in place (nest)', () => {
    const before = nestedReturns(WASM_POOL);
    const F = 0x20, H = 0x1000;
    codeProt = 7;
    try {
      for (let seed = 1; seed <= 10 * SCALE; seed++) {
        const r = new Rng(seed * 1299709);
        // main: mov r12d, 30; L: call F; dec r12d; jnz L; ud2
        const main = [0x41, 0xbc, ...imm32(30), 0xe8, ...imm32(F - 11), 0x41, 0xff, 0xcc, 0x75, -10 & 0xff, 0x0f, 0x0b];
        // F: call H; mov ecx, imm32; add edx, ecx; call H; forms; ret
        const fImm = F + 5 + 1;
        const f = [0xe8, ...imm32(H - (F + 5)), 0xb9, ...imm32(r.word()), 0x01, 0xca, 0xe8, ...imm32(H - (F + 17)), ...someForms(r, 10), 0xc3];
        // H: forms; test r12b, 7; jnz R; forms; xadd [fImm], esi; R: ret
        const h1 = [...someForms(r, 50), 0x41, 0xf6, 0xc4, 0x07];
        const h2 = someForms(r, 3);
        const xaddAt = H + h1.length + 2 + h2.length;
        h2.push(0x0f, 0xc1, 0x35, ...imm32(fImm - (xaddAt + 7)));
        const h = [...h1, 0x75, h2.length, ...h2, 0xc3];
        const code = new Array<number>(H + h.length).fill(0x90);
        code.splice(0, main.length, ...main);
        code.splice(F, f.length, ...f);
        code.splice(H, h.length, ...h);
        for (const threshold of [2, 3]) {
          compare(code, seed, `callee rewrites its caller, translated at run ${threshold}`, 200_000, threshold);
          compare(code, seed, `callee rewrites its caller, translated at run ${threshold}, small budget`, 1 + r.int(3000), threshold);
        }
      }
    } finally {
      codeProt = 5;
    }
    assert.ok(nestedReturns(WASM_POOL) - before > 50, `only ${nestedReturns(WASM_POOL) - before} calls continued in place`);
  });
  // Every SSE form wasm/sse.ts translates (register and [rbx] operands, aligned or not), in a loop, against
  // the interpreter: the random generator above does not produce most of them.
  test('SSE integer forms in translated regions', () => {
    const before = wasmStats.regions;
    const P = [0x66, 0x0f];
    const forms: number[][] = [
      [0x0f, 0x10, 0xc1], [0x66, 0x0f, 0x28, 0xc1], [0x0f, 0x10, 0x03], [0x0f, 0x28, 0x03], [0x0f, 0x11, 0x03], [0x0f, 0x29, 0x03],
      [0x0f, 0x54, 0xc1], [0x66, 0x0f, 0x55, 0xc1], [0x0f, 0x56, 0xc1], [0x0f, 0x57, 0xc1],
      [...P, 0x6f, 0x03], [0xf3, 0x0f, 0x6f, 0x03], [...P, 0x7f, 0x03], [0xf3, 0x0f, 0x7f, 0x03], [0xf3, 0x0f, 0x6f, 0xc1],
      ...[0xef, 0xeb, 0xdb, 0xdf, 0x74, 0x75, 0x76, 0x64, 0x65, 0x66, 0xfe, 0xfa, 0xda, 0xde].map((op) => [...P, op, 0xc1]),
      ...[0x60, 0x61, 0x62, 0x6c, 0x68, 0x69, 0x6a, 0x6d, 0xfc, 0xf8, 0xfd, 0xf9, 0xd4, 0xfb, 0xf4].map((op) => [...P, op, 0xc1]),
      [...P, 0xef, 0x03], [...P, 0x74, 0x03], [...P, 0x60, 0x03],
      [...P, 0xd7, 0xc1], // pmovmskb eax, xmm1
      [...P, 0x70, 0xc1, 0x1b], [...P, 0x70, 0x03, 0x4e], // pshufd
      [...P, 0x6e, 0xc0], [0x66, 0x48, 0x0f, 0x6e, 0xc2], [...P, 0x6e, 0x03], // movd/movq xmm, r/m
      [...P, 0x7e, 0xc0], [0x66, 0x48, 0x0f, 0x7e, 0xc2], [...P, 0x7e, 0x03], // movd/movq r/m, xmm
      [0xf3, 0x0f, 0x7e, 0xc1], [0xf3, 0x0f, 0x7e, 0x03], [...P, 0xd6, 0xc1], [...P, 0xd6, 0x03], // movq
      ...[[0x71, 0xd0], [0x71, 0xe0], [0x71, 0xf0], [0x72, 0xd0], [0x72, 0xe0], [0x72, 0xf0], [0x73, 0xd0], [0x73, 0xf0], [0x73, 0xd8], [0x73, 0xf8]].flatMap(([op, m]) =>
        [1, 7, 15, 16, 31, 33, 63, 64].map((n) => [...P, op, m, n])),
      ...[0, 1, 7, 8, 15].map((n) => [...P, 0x3a, 0x0f, 0xc1, n]), // palignr
      // movlps/movlpd/movhps/movhpd loads and stores, movhlps, movlhps
      [0x0f, 0x12, 0x03], [...P, 0x12, 0x03], [0x0f, 0x16, 0x03], [...P, 0x16, 0x03], [0x0f, 0x12, 0xc1], [0x0f, 0x16, 0xc1],
      [0x0f, 0x13, 0x03], [...P, 0x13, 0x03], [0x0f, 0x17, 0x03], [...P, 0x17, 0x03],
    ];
    let seed = 0;
    for (const ins of forms) {
      seed++;
      // xmm0 op= xmm1 five times over, with xmm1 changed by paddd xmm1, xmm0 in between.
      const body = [...ins, 0x66, 0x0f, 0xfe, 0xc8, 0xff, 0xc9];
      const code = [0xb9, ...imm32(5), ...body, 0x75, -(body.length + 2) & 0xff, 0x0f, 0x0b];
      compare(code, seed, `sse ${hex(ins)}`);
    }
    assert.ok(wasmStats.regions - before >= forms.length, `only ${wasmStats.regions - before} WebAssembly regions for ${forms.length} forms`);
  });
  // addsd…divss run in the region only when SSE would raise no new exception flag (MXCSR's fast state, normal
  // operands and result, exact sums while PE is clear); the rest leaves for the interpreter's full rules. The
  // random xmm values are mostly NaNs and huge numbers: here the operands are chosen, and so is MXCSR.
  test('scalar floating-point arithmetic and movss/movsd in translated regions', () => {
    const before = wasmStats.regions, slowBefore = runStats.slowExits;
    const bits = (x: number, single: boolean) => {
      const v = new DataView(new ArrayBuffer(8));
      if (single) v.setFloat32(0, x, true);
      else v.setFloat64(0, x, true);
      return Array.from(new Uint8Array(v.buffer));
    };
    const load = (x: number, single: boolean, xmm: number) => [0x48, 0xb8, ...bits(x, single), 0x66, 0x48, 0x0f, 0x6e, 0xc0 | (xmm << 3)]; // mov rax, imm64; movq xmmN, rax
    const pairs: [number, number][] = [
      [1.5, 2.25], [1, 3], [0.1, 0.2], [2 ** 53, 1], [3, -3], [-0, 0], [0, 0], [5, 0], [0, 5], [1e300, 1e300], [1e-300, 1e-300],
      [2.2250738585072014e-308, 0.5], [1e38, 1e38], [1e-38, 0.25], [5e-324, 1], [NaN, 1], [Infinity, 1], [-7.25, 0.0625],
    ];
    let seed = 3000, fast = 0;
    for (const single of [false, true]) {
      for (const op of [0x58, 0x5c, 0x59, 0x5e]) {
        for (const [x, y] of pairs) {
          for (const mxcsr of [0x1f80, 0x1fa0, 0x3f80, 0x9fa0]) { // PE clear; PE set; round down; FTZ
            for (const mem of [false, true]) {
              const pfx = single ? 0xf3 : 0xf2;
              const ins = mem ? [pfx, 0x0f, op, 0x43, 0x08] : [pfx, 0x0f, op, 0xc1]; // op xmm0, [rbx+8] / xmm1
              const code = [
                0xc7, 0x03, ...imm32(mxcsr), 0x0f, 0xae, 0x13, // mov dword [rbx], mxcsr; ldmxcsr [rbx]
                ...load(y, single, 1), 0x48, 0x89, 0x43, 0x08, // xmm1 = y, and [rbx+8]
                ...load(x, single, 0),
                0xb9, ...imm32(4), // mov ecx, 4
                ...ins, 0xff, 0xc9, 0x75, -(ins.length + 4) & 0xff, // L: op; dec ecx; jnz L
                0x0f, 0x0b,
              ];
              const slow = runStats.slowExits;
              compare(code, ++seed, `${single ? 'ss' : 'sd'} op ${op.toString(16)} ${x} ${y} mxcsr ${mxcsr.toString(16)}${mem ? ' memory' : ''}`, 10_000, 2);
              if (runStats.slowExits === slow) fast++;
            }
          }
        }
      }
    }
    // Straight from the region at least where nothing could raise a flag (1.5 + 2.25 with PE clear, anything normal with PE set).
    assert.ok(fast > 100, `only ${fast} of the cases ran without leaving for the interpreter`);
    assert.ok(runStats.slowExits > slowBefore, 'no case left for the interpreter');
    const moves = [0xf2, 0xf3].flatMap((p) => [[p, 0x0f, 0x10, 0xc1], [p, 0x0f, 0x10, 0x03], [p, 0x0f, 0x11, 0xc1], [p, 0x0f, 0x11, 0x03], [p, 0x0f, 0x10, 0x83, ...imm32(4093)]]);
    for (const ins of moves) {
      const body = [...ins, 0x66, 0x0f, 0xfe, 0xc8, 0xff, 0xc9];
      compare([0xb9, ...imm32(5), ...body, 0x75, -(body.length + 2) & 0xff, 0x0f, 0x0b], ++seed, `sse ${hex(ins)}`);
    }
    assert.ok(wasmStats.regions - before >= moves.length, `only ${wasmStats.regions - before} WebAssembly regions`);
  });
  test('loops that run inside the translated function, budget boundaries included', () => {
    const before = wasmStats.regions;
    for (let seed = 1; seed <= 200 * SCALE; seed++) {
      const g = new Gen(new Rng(seed * 32452843), seed % 3 === 0);
      const code = loop(g, 1 + g.r.int(8), 1 + g.r.int(50));
      compare(code, seed, 'loop');
      compare(code, seed, 'loop, small budget', 1 + g.r.int(100));
    }
    assert.ok(wasmStats.regions - before > 50, `only ${wasmStats.regions - before} WebAssembly regions`);
  });
});
