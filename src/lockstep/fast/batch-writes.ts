import { readRange } from '../bytes.js';
import { byteDifferences, type MemoryDifference } from '../compare.js';
import type { InstructionFacts } from '../instruction-facts.js';
import type { Registers } from '../side.js';
import type { EmulatorSide } from './emulator-side.js';
import type { NativeSide } from './native-side.js';

/** A memory range an instruction wrote, checked at the end of the batch. */
export interface Write {
  addr: number;
  len: number;
  /** Index (instructions compared before it) and address of the writing instruction. */
  index: number;
  rip: number;
}

/** A byte the batch wrote that differs at its end, with the instruction that last wrote it. */
export interface WriteDifference {
  at: number;
  write: Write;
  memory: MemoryDifference;
}

/**
 * The memory a batch of instructions wrote, compared at the end of the batch: the native process has run on by
 * the time the differ reads a record, so a byte is compared as the batch left it (a wrong value overwritten by a
 * correct one within the batch goes unseen, unless a register showed it first). Undefined memory destinations
 * are copied native → elfshim instead, so they cannot leak.
 */
export class BatchWrites {
  private writes: Write[] = [];
  private undefinedWrites: Array<[number, number]> = [];

  /** The last range noted (the self-test corrupts it). */
  last(): Write | undefined {
    return this.writes[this.writes.length - 1];
  }

  /** The memory instruction f (the index-th compared) wrote: its operands, a push's bytes, a stos/movs range. */
  note(f: InstructionFacts, before: Registers, after: Registers, index: number): void {
    const i = f.instr, rip = before.num('rip');
    // An FPU state image written over bytes an earlier instruction of the batch wrote: those can no longer be compared.
    for (const [addr, len] of f.overwritten) this.writes = this.writes.flatMap((w) => outside(w, addr, addr + len));
    if (f.undefined.destMem) {
      if (f.memory.length) this.undefinedWrites.push(f.memory[0]);
    } else for (const [addr, len] of f.memory) this.writes.push({ addr, len, index, rip });
    if (f.kind === 'stack-write') {
      const old = before.num('rsp'), now = after.num('rsp');
      if (now < old) this.writes.push({ addr: now, len: Math.min(old - now, 64), index, rip });
    }
    if ((f.kind === 'string' || f.kind === 'rep-string') && (i.op === 0xa4 || i.op === 0xa5 || i.op === 0xaa || i.op === 0xab)) {
      const b = before.num('rdi'), a = after.num('rdi');
      const size = i.op & 1 ? i.opsize : 1;
      const [lo, hi] = a >= b ? [b, a] : [a + size, b + size];
      if (hi > lo) this.writes.push({ addr: lo, len: Math.min(hi - lo, 1 << 20), index, rip });
    }
  }

  /** At the end of the batch: undefined destinations copied, then the first differing byte of what it wrote (or null). */
  async check(native: NativeSide, emu: EmulatorSide): Promise<WriteDifference | null> {
    const writes = this.writes;
    this.writes = [];
    for (const [addr, len] of this.undefinedWrites) {
      const a = await native.readMemory(addr, len);
      if (a) emu.mem.poke(addr, a);
    }
    this.undefinedWrites = [];
    if (!writes.length) return null;
    for (const [addr, len] of mergeRanges(writes)) {
      let a = await readRange(native, addr, len), b = emu.peek(addr, len);
      if (!a || !b) {
        // Part of the range may be unmapped (an operand at the end of a mapping): compare the first byte.
        [a, b] = [native.tracer.readMemory(addr, 1), emu.peek(addr, 1)];
        if (!a && !b) continue;
      }
      const d = a && b ? byteDifferences(a, b, 1) : [0];
      if (!d.length) continue;
      const at = addr + d[0];
      const write = [...writes].reverse().find((x) => at >= x.addr && at < x.addr + x.len)!;
      return { at, write, memory: { addr, native: a, elfshim: b, first: d[0] } };
    }
    return null;
  }
}

/** The parts of w outside [lo, hi). */
function outside(w: Write, lo: number, hi: number): Write[] {
  const end = w.addr + w.len;
  if (end <= lo || w.addr >= hi) return [w];
  const out: Write[] = [];
  if (w.addr < lo) out.push({ ...w, len: lo - w.addr });
  if (end > hi) out.push({ ...w, addr: hi, len: end - hi });
  return out;
}

/** Sorted, overlapping or adjacent ranges merged. */
function mergeRanges(ws: Write[]): Array<[number, number]> {
  const rs = ws.map((w) => [w.addr, w.addr + w.len] as [number, number]).sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of rs) {
    const last = out[out.length - 1];
    if (last && lo <= last[1]) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out.map(([lo, hi]) => [lo, hi - lo]);
}
